// Progressive enhancement of the query page: when YASGUI loads, it replaces the plain form;
// when it does not (the CDN is unreachable, the integrity check fails, JavaScript is off, or
// YASGUI throws), the form stays and works on its own. A file, not inline, so the
// Content-Security-Policy can refuse every inline script.
window.addEventListener("load", function () {
  if (typeof window.Yasgui === "undefined") { return; }
  var form = document.getElementById("sparql-form");
  var query = document.getElementById("query").value;
  try {
    var yasgui = new window.Yasgui(document.getElementById("yasgui"), {
      requestConfig: { endpoint: form.action, method: "POST" },
      copyEndpointOnNewTab: false
    });
    yasgui.getTab().setQuery(query);
  } catch (error) {
    document.getElementById("yasgui").textContent = "";
    return;
  }
  form.hidden = true;
});
