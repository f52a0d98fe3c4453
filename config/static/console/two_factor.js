// Security keys and passkeys on the Two-factor page and at the login's second step: asks the
// server for options, hands them to the browser's WebAuthn API, and posts the answer back.
// A file of its own: the Content-Security-Policy runs no inline script.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function showError(message) {
    // The admin's .errornote box shows even when empty, so the class comes with the message.
    var box = document.getElementById("webauthn-error");
    box.textContent = message;
    box.className = "errornote";
  }

  function post(button, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": button.dataset.csrf },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || "The server refused (" + response.status + ").");
        return data;
      });
    });
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function register(button) {
    var name = document.getElementById("id_key_name").value;
    post(button, button.dataset.optionsUrl)
      .then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        options.excludeCredentials = descriptors(options.excludeCredentials);
        return navigator.credentials.create({ publicKey: options });
      })
      .then(function (credential) {
        return post(button, button.dataset.verifyUrl, {
          name: name,
          credential: {
            id: credential.id,
            rawId: toText(credential.rawId),
            type: credential.type,
            response: {
              clientDataJSON: toText(credential.response.clientDataJSON),
              attestationObject: toText(credential.response.attestationObject),
              transports: credential.response.getTransports ? credential.response.getTransports() : [],
            },
            clientExtensionResults: credential.getClientExtensionResults(),
          },
        });
      })
      .then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) { showError(error.message); });
  }

  function authenticate(button) {
    post(button, button.dataset.optionsUrl)
      .then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = descriptors(options.allowCredentials);
        return navigator.credentials.get({ publicKey: options });
      })
      .then(function (credential) {
        var response = credential.response;
        return post(button, button.dataset.verifyUrl, {
          credential: {
            id: credential.id,
            rawId: toText(credential.rawId),
            type: credential.type,
            response: {
              clientDataJSON: toText(response.clientDataJSON),
              authenticatorData: toText(response.authenticatorData),
              signature: toText(response.signature),
              userHandle: response.userHandle ? toText(response.userHandle) : null,
            },
            clientExtensionResults: credential.getClientExtensionResults(),
          },
        });
      })
      .then(function (data) { window.location.assign(data.redirect); })
      .catch(function (error) { showError(error.message); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var registerButton = document.getElementById("webauthn-register");
    if (registerButton) registerButton.addEventListener("click", function () { register(registerButton); });
    var loginButton = document.getElementById("webauthn-login");
    if (loginButton) loginButton.addEventListener("click", function () { authenticate(loginButton); });
  });
})();
