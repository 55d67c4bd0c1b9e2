"""The HTTP layer: parse the request, call the domain, render the vendor's JSON shapes."""
