// A stand-in for YASGUI that starts: it writes what the query page gave it into its element.
window.Yasgui = function (element, config) {
  element.setAttribute("data-endpoint", config.requestConfig.endpoint);
  element.textContent = "YASGUI stand-in";
  this.getTab = function () {
    return { setQuery: function (query) { element.setAttribute("data-query", query); } };
  };
};
