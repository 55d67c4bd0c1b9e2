"use strict";
// A service's Alloy code on the official alloy-node SDK, unmodified: it calls https://embedded.runalloy.com.
const Alloy = require("alloy-node");

// Create the user (or find the one they have), then list the integrations they could connect.
async function onboard(apiKey, email, fullName) {
  const alloy = new Alloy(apiKey);
  try {
    await alloy.createUser({ username: email, fullName });
  } catch (error) {
    // alloy-node rejects with the API's message itself, a string
    if (error !== "User already exists") throw error;
  }
  await alloy.identify(email);
  const integrations = await alloy.getIntegrations();
  return { userId: alloy.userId, apps: integrations.data.map((integration) => integration.app).sort() };
}

module.exports = { onboard };
