// The local sign-in page's script (served by the local stack only). It never stores the token: it
// posts it to the window that opened this one, on this origin only, and closes.
(function () {
  "use strict";
  var form = document.getElementById("sign-in");
  var select = document.getElementById("record");
  var typed = document.getElementById("record-id");
  var message = document.getElementById("message");
  var records = { doctors: [], patients: [] };

  function role() {
    return form.querySelector("input[name=role]:checked").value;
  }

  function fill() {
    var kind = role();
    select.textContent = "";
    var list = kind === "doctor" ? records.doctors : kind === "patient" ? records.patients : [];
    var first = document.createElement("option");
    first.value = "";
    first.textContent = kind === "staff" ? "(staff need no record)" : "Choose…";
    select.appendChild(first);
    list.forEach(function (r) {
      var option = document.createElement("option");
      option.value = r.id;
      option.textContent = r.name;
      select.appendChild(option);
    });
    select.disabled = kind === "staff";
  }

  fetch("/_local/sign-in/records", { cache: "no-store" })
    .then(function (r) { return r.json(); })
    .then(function (found) { records = found; fill(); })
    .catch(function () { message.textContent = "The records could not be listed; type an id instead."; });

  Array.prototype.forEach.call(form.querySelectorAll("input[name=role]"), function (input) {
    input.addEventListener("change", fill);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    message.textContent = "";
    var id = typed.value.trim() || select.value;
    fetch("/_local/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ role: role(), id: id || null }),
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (answer) {
        if (!answer.ok) { message.textContent = "Not signed in: " + answer.body.detail + "."; return; }
        if (!window.opener) { message.textContent = "Open this page from the app (/app/) to sign in."; return; }
        window.opener.postMessage({ type: "clinic-local-token", token: answer.body.token }, window.location.origin);
        window.close();
      })
      .catch(function () { message.textContent = "The local stack did not answer."; });
  });
})();
