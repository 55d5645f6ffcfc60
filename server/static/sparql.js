// Progressive enhancement of the query page: when YASGUI loads, it replaces the plain form;
// when it does not, the form keeps working on its own. A file, not inline, so the
// Content-Security-Policy can refuse every inline script.
window.addEventListener("load", function () {
  if (typeof window.Yasgui === "undefined") { return; }
  var form = document.getElementById("sparql-form");
  var query = document.getElementById("query").value;
  var yasgui = new window.Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: form.action, method: "POST" },
    copyEndpointOnNewTab: false
  });
  yasgui.getTab().setQuery(query);
  form.hidden = true;
});
