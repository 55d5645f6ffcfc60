// A stand-in for a YASGUI that loads but fails to start (a broken release, an unsupported browser).
window.Yasgui = function () {
  throw new Error("YASGUI stand-in cannot start");
};
