// The Cognito hosted sign-in redirects the sign-in window here with ?code=…&state=…. The code goes to
// the app that opened this window (same origin only) and the window closes: the app exchanges the code
// with its PKCE verifier, which never left its memory. Nothing is stored; the window's history goes with it.
const params = new URLSearchParams(window.location.search);
const message = {
  type: "clinic-oauth-callback",
  code: params.get("code"),
  state: params.get("state"),
  error: params.get("error"),
};
if (window.opener) {
  (window.opener as Window).postMessage(message, window.location.origin);
}
window.close();
