/*
 * Browser evaluator of procedure conditions (show_if, fee when/quantity).
 *
 * Evaluates the tree of Expr.to_json() (forms_engine/procedure_format/expr/) with the same semantics
 * as the server (expr/values.py, compiler.py and functions.py there), so a field shown in the
 * browser is the field the server keeps:
 *   - answers: strings for text/select/radio, "YYYY-MM-DD" for dates, booleans for yes_no,
 *     arrays for checkboxes and groups, numbers for number fields;
 *   - an absent answer, "" and [] are all null (an empty input is an unanswered field);
 *   - null is 0 in arithmetic, an ordering comparison with null is false, x in null is false;
 *   - a runtime type error or a division by zero gives null, never an exception.
 * tests/procedure_format/test_expr.py runs this file under node against the Python evaluator.
 *
 * Usage: DSExpr.evaluate(ast, answers, "2025-04-01") and DSExpr.truthy(value).
 */
(function (root) {
  "use strict";

  var hasOwn = Object.prototype.hasOwnProperty;
  var ISO_DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;
  var SURROGATE = /[\uD800-\uDFFF]/;

  function isArray(v) {
    return Array.isArray(v);
  }

  function isObject(v) {
    return v !== null && typeof v === "object" && !isArray(v);
  }

  function isNumber(v) {
    return typeof v === "number";
  }

  function normalise(v) {
    if (v === undefined || v === "") return null;
    if (isArray(v) && v.length === 0) return null;
    return v;
  }

  function truthy(v) {
    if (v === null || v === undefined || v === false) return false;
    if (v === true) return true;
    if (isNumber(v)) return v !== 0 && v === v;
    if (typeof v === "string" || isArray(v)) return v.length > 0;
    if (isObject(v)) return Object.keys(v).length > 0;
    return true;
  }

  function equal(x, y) {
    if (x === null || x === undefined || y === null || y === undefined) {
      return (x === null || x === undefined) && (y === null || y === undefined);
    }
    var tx = typeof x;
    if (tx === "boolean" || typeof y === "boolean") return x === y;
    if (tx === "number" || tx === "string") return x === y;
    if (isArray(x)) {
      if (!isArray(y) || x.length !== y.length) return false;
      for (var i = 0; i < x.length; i++) if (!equal(x[i], y[i])) return false;
      return true;
    }
    if (isObject(x) && isObject(y)) {
      var kx = Object.keys(x);
      var ky = Object.keys(y);
      if (kx.length !== ky.length) return false;
      for (var j = 0; j < kx.length; j++) {
        if (!hasOwn.call(y, kx[j]) || !equal(x[kx[j]], y[kx[j]])) return false;
      }
      return true;
    }
    return false;
  }

  // Python orders strings by code point; JavaScript by UTF-16 unit. They differ only when
  // a surrogate pair meets U+E000..U+FFFF (e.g. an emoji against a full-width tilde).
  function compareStrings(a, b) {
    if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
    var i = 0;
    var j = 0;
    while (i < a.length && j < b.length) {
      var ca = a.codePointAt(i);
      var cb = b.codePointAt(j);
      if (ca !== cb) return ca < cb ? -1 : 1;
      i += ca > 0xffff ? 2 : 1;
      j += cb > 0xffff ? 2 : 1;
    }
    if (i < a.length) return 1;
    if (j < b.length) return -1;
    return 0;
  }

  function order(op, x, y) {
    var c;
    if (typeof x === "string") {
      if (typeof y !== "string") return false;
      c = compareStrings(x, y);
    } else if (isNumber(x) && isNumber(y)) {
      if (x !== x || y !== y) return false;
      c = x < y ? -1 : x > y ? 1 : 0;
    } else {
      return false;
    }
    if (op === "<") return c < 0;
    if (op === "<=") return c <= 0;
    if (op === ">") return c > 0;
    return c >= 0;
  }

  function contains(needle, container) {
    if (isArray(container)) {
      for (var i = 0; i < container.length; i++) if (equal(needle, container[i])) return true;
      return false;
    }
    if (typeof container === "string") {
      return typeof needle === "string" && container.indexOf(needle) !== -1;
    }
    return false;
  }

  function asNumber(v) {
    if (v === null || v === undefined) return 0;
    return isNumber(v) ? v : null;
  }

  function arithmetic(op, x, y) {
    x = asNumber(x);
    y = asNumber(y);
    if (x === null || y === null) return null;
    var r;
    if (op === "+") r = x + y;
    else if (op === "-") r = x - y;
    else if (op === "*") r = x * y;
    else {
      if (y === 0) return null;
      r = x / y;
    }
    return isFinite(r) ? r : null;
  }

  function daysInMonth(year, month) {
    if (month === 2) {
      var leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
      return leap ? 29 : 28;
    }
    return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  }

  function parseIso(v) {
    if (typeof v !== "string") return null;
    var m = ISO_DATE.exec(v);
    if (!m) return null;
    var y = +m[1];
    var mo = +m[2];
    var d = +m[3];
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
    return [y, mo, d];
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < width) s = "0" + s;
    return s;
  }

  function localToday() {
    var now = new Date();
    return [now.getFullYear(), now.getMonth() + 1, now.getDate()];
  }

  function age(v, today) {
    var born = parseIso(v);
    if (!born) return null;
    var before = today[1] < born[1] || (today[1] === born[1] && today[2] < born[2]);
    return today[0] - born[0] - (before ? 1 : 0);
  }

  function length(v) {
    if (v === null || v === undefined) return 0;
    if (isArray(v)) return v.length;
    if (typeof v === "string") return Array.from(v).length; // code points, as in Python
    return null;
  }

  function lookup(node, answers) {
    var id = node.name;
    var v = hasOwn.call(answers, id) ? answers[id] : undefined;
    if (!hasOwn.call(node, "part")) return normalise(v);
    if (!isObject(v) || !hasOwn.call(v, node.part)) return null;
    return normalise(v[node.part]);
  }

  function ev(node, answers, today) {
    if (hasOwn.call(node, "lit")) return node.lit;
    if (hasOwn.call(node, "name")) return lookup(node, answers);
    var args = node.args;
    var i;
    if (hasOwn.call(node, "list")) {
      var out = [];
      for (i = 0; i < node.list.length; i++) out.push(ev(node.list[i], answers, today));
      return out;
    }
    if (hasOwn.call(node, "call")) {
      if (node.call === "today") {
        return pad(today[0], 4) + "-" + pad(today[1], 2) + "-" + pad(today[2], 2);
      }
      var arg = ev(args[0], answers, today);
      if (node.call === "len") return length(arg);
      if (node.call === "age") return age(arg, today);
      throw new Error("unknown function " + node.call);
    }
    var op = node.op;
    var v;
    if (op === "and" || op === "or") {
      for (i = 0; i < args.length - 1; i++) {
        v = ev(args[i], answers, today);
        if (truthy(v) === (op === "or")) return v;
      }
      return ev(args[args.length - 1], answers, today);
    }
    if (op === "not") return !truthy(ev(args[0], answers, today));
    if (op === "neg") {
      v = asNumber(ev(args[0], answers, today));
      return v === null ? null : v === 0 ? 0 : -v;
    }
    var x = ev(args[0], answers, today);
    var y = ev(args[1], answers, today);
    switch (op) {
      case "==":
        return equal(x, y);
      case "!=":
        return !equal(x, y);
      case "<":
      case "<=":
      case ">":
      case ">=":
        return order(op, x, y);
      case "in":
        return contains(x, y);
      case "not in":
        return !contains(x, y);
      case "+":
      case "-":
      case "*":
      case "/":
        return arithmetic(op, x, y);
    }
    throw new Error("unknown operator " + op);
  }

  // Throws on a malformed tree; for tests. Pages use evaluate().
  function evaluateStrict(ast, answers, todayIsoString) {
    var today = parseIso(todayIsoString) || localToday();
    return ev(ast, answers || {}, today);
  }

  function evaluate(ast, answers, todayIsoString) {
    try {
      var result = evaluateStrict(ast, answers, todayIsoString);
      return result === undefined ? null : result;
    } catch (e) {
      return null;
    }
  }

  var api = { evaluate: evaluate, evaluateStrict: evaluateStrict, truthy: truthy };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  if (root) root.DSExpr = api;
})(typeof window !== "undefined" ? window : typeof globalThis !== "undefined" ? globalThis : this);
