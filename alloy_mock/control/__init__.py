"""Test controls that the vendor API does not have: request journal, faults, snapshots, coverage."""
