#!/usr/bin/env python3
"""Renders one HTML page (a session report, a progress page) in headless Chromium and checks what a
person would see: no console error (script errors, console.error, a resource that failed to load, a
Content-Security-Policy refusal), no plot without data (an <svg> with no line, area, point or bar of
at least two points), no overlapping labels (two <text> of one <svg> whose boxes intersect, as laid
out by the browser), no label cut off by the edge of its plot, and saves a screenshot (PNG).

How: a copy of the page, in a temporary folder, gets a <base> pointing at the original's folder and
a checker script as the first thing in its <head> (before the page's own scripts and any CSP), which
hooks the errors, waits for the page to load and settle, runs the checks and writes its verdict into
the DOM; `chromium --headless --dump-dom` prints that DOM. The screenshot is of the original page.

    scripts/report-browser-check.py CHROMIUM PAGE.html SCREENSHOT.png

Exit: 0 every check passed; 1 a check failed (each failure on its own line, naming the element, or
the page never loaded); 69 Chromium did not run.
"""

import html
import os
import pathlib
import re
import subprocess
import sys
import tempfile

CHECKER = r"""
<script>
(function () {
  "use strict";
  var problems = [];
  var originalError = console.error;
  console.error = function () {
    problems.push("console error: " + Array.prototype.map.call(arguments, String).join(" "));
    return originalError.apply(console, arguments);
  };
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window && (target.src || target.href)) {
      problems.push("a resource failed to load: <" + target.tagName.toLowerCase() + "> " + (target.src || target.href));
    } else {
      problems.push("script error: " + event.message + " (" + event.filename + ":" + event.lineno + ")");
    }
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    problems.push("unhandled promise rejection: " + event.reason);
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    problems.push("Content-Security-Policy refused " + event.blockedURI + " (" + event.violatedDirective + ")");
  });

  /* Decoration, not data: grid, frame, axes, ticks, legend, background (by class, on the element or a group). */
  var decoration = /^(grid|frame|axis|axes|tick|ticks|legend|background|bg|border)([-_].*)?$/i;
  function isDecoration(element, svg) {
    for (var node = element; node && node !== svg; node = node.parentElement) {
      var tag = node.tagName.toLowerCase();
      if (tag === "defs" || tag === "clippath" || tag === "mask" || tag === "marker" || tag === "pattern" || tag === "symbol") return true;
      var classes = (node.getAttribute("class") || "").split(/\s+/);
      for (var i = 0; i < classes.length; i++) if (decoration.test(classes[i])) return true;
    }
    return false;
  }
  function pointCount(element) {
    var tag = element.tagName.toLowerCase();
    if (tag === "path") return ((element.getAttribute("d") || "").match(/[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/gi) || []).length / 2;
    if (tag === "polyline" || tag === "polygon") return element.points ? element.points.numberOfItems : 0;
    return 0;
  }
  /* A legend swatch: a small shape right before its label. */
  function isSwatch(element) {
    var box = element.getBBox();
    var next = element.nextElementSibling;
    return box.width <= 20 && box.height <= 20 && next !== null && next.tagName.toLowerCase() === "text";
  }
  function dataMarks(svg) {
    var marks = 0;
    var shapes = svg.querySelectorAll("path, polyline, polygon, circle, ellipse, rect");
    for (var i = 0; i < shapes.length; i++) {
      var shape = shapes[i];
      if (isDecoration(shape, svg)) continue;
      var tag = shape.tagName.toLowerCase();
      var box = shape.getBBox();
      if (tag === "path" || tag === "polyline" || tag === "polygon") {
        if (/NaN|Infinity/.test(shape.getAttribute("d") || shape.getAttribute("points") || "")) continue;
        if (pointCount(shape) >= 2 && (box.width > 0 || box.height > 0)) marks++;
      } else if (box.width > 0 && box.height > 0 && !isSwatch(shape)) {
        marks++;
      }
    }
    return marks;
  }
  function text(element) {
    return (element.textContent || "").replace(/\s+/g, " ").trim();
  }
  /* Where a plot is, for a person: its number, its id or label, and the heading above it. */
  function describe(svg, index) {
    var name = "plot " + (index + 1);
    if (svg.id) name += " #" + svg.id;
    var title = null;
    for (var child = svg.firstElementChild; child && !title; child = child.nextElementSibling) {
      if (child.tagName.toLowerCase() === "title") title = child;
    }
    var label = svg.getAttribute("aria-label") || (title ? text(title) : "");
    if (label) name += " \"" + label + "\"";
    var headings = document.querySelectorAll("h1, h2, h3, h4");
    var above = null;
    for (var i = 0; i < headings.length; i++) {
      if (headings[i].compareDocumentPosition(svg) & Node.DOCUMENT_POSITION_FOLLOWING) above = headings[i];
    }
    if (above) name += " under \"" + text(above) + "\"";
    return name;
  }
  function check() {
    var lines = [];
    var svgs = Array.prototype.filter.call(document.querySelectorAll("svg"), function (svg) {
      return !(svg.parentElement && svg.parentElement.closest("svg"));
    });
    var labels = 0;
    svgs.forEach(function (svg, index) {
      var name = describe(svg, index);
      if (dataMarks(svg) === 0) lines.push("FAIL " + name + ": a plot with no data (no line, area, point or bar of two or more points)");
      var texts = Array.prototype.filter.call(svg.querySelectorAll("text"), function (element) {
        var box = element.getBoundingClientRect();
        return text(element) !== "" && box.width > 0 && box.height > 0;
      });
      labels += texts.length;
      var boxes = texts.map(function (element) { return element.getBoundingClientRect(); });
      /* A label cut off by its plot's edge cannot be read either (an axis title longer than the plot is high). */
      var frame = svg.getBoundingClientRect();
      texts.forEach(function (element, index) {
        var box = boxes[index];
        if (box.left < frame.left - 1 || box.right > frame.right + 1 || box.top < frame.top - 1 || box.bottom > frame.bottom + 1) {
          lines.push("FAIL " + name + ": label \"" + text(element) + "\" is cut off by the edge of its plot");
        }
      });
      for (var a = 0; a < texts.length; a++) {
        for (var b = a + 1; b < texts.length; b++) {
          var width = Math.min(boxes[a].right, boxes[b].right) - Math.max(boxes[a].left, boxes[b].left);
          var height = Math.min(boxes[a].bottom, boxes[b].bottom) - Math.max(boxes[a].top, boxes[b].top);
          /* More than a pixel each way: glyph boxes that merely touch are no overlap. */
          if (width > 1 && height > 1) {
            lines.push("FAIL " + name + ": labels \"" + text(texts[a]) + "\" and \"" + text(texts[b]) + "\" overlap by " +
                       width.toFixed(0) + " × " + height.toFixed(0) + " px");
          }
        }
      }
    });
    problems.forEach(function (problem) { lines.push("FAIL " + problem); });
    lines.push("CHECKED " + svgs.length + " plots, " + labels + " labels");
    var verdict = document.createElement("pre");
    verdict.id = "rehabhost-browser-check";
    verdict.hidden = true;
    verdict.textContent = lines.join("\n");
    document.documentElement.appendChild(verdict);
  }
  /* After the load, and after what the page itself does then (the virtual-time budget covers both). */
  window.addEventListener("load", function () { setTimeout(check, 500); });
})();
</script>
"""

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                  "--allow-file-access-from-files", "--enable-logging=stderr", "--v=0"]


def instrumented(page: pathlib.Path) -> str:
    """The page with <base> and the checker first in <head> (after the doctype: quirks mode would change the
    layout), on no line of its own: the page's line numbers in error messages stay its own."""
    source = page.read_text(encoding="utf-8", errors="replace")
    checker = " ".join(line.strip() for line in CHECKER.splitlines() if line.strip())
    inserted = '<base href="%s/">' % html.escape(page.parent.resolve().as_uri()) + checker
    for pattern in (r"<head\b[^>]*>", r"<html\b[^>]*>", r"<!doctype[^>]*>"):
        match = re.search(pattern, source, re.IGNORECASE)
        if match:
            return source[:match.end()] + inserted + source[match.end():]
    return inserted + source


def run(chromium: str, arguments: list) -> subprocess.CompletedProcess:
    return subprocess.run([chromium] + CHROMIUM_FLAGS + arguments, capture_output=True, text=True, timeout=120)


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 64
    chromium, page, screenshot = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    with tempfile.TemporaryDirectory(prefix="rehabhost-browser-check-") as folder:
        copy = pathlib.Path(folder) / page.name
        copy.write_text(instrumented(page), encoding="utf-8")
        result = run(chromium, ["--virtual-time-budget=5000", "--dump-dom", copy.as_uri()])
    found = re.search(r'<pre id="rehabhost-browser-check"[^>]*>(.*?)</pre>', result.stdout, re.DOTALL)
    if not found:
        # Chromium that ran, on a page that never finished loading, is the page's failure; one that did not run is ours.
        print("%s: FAILED: no verdict: Chromium exited %d and the checker did not report (the page never loaded?)%s" % (
            page, result.returncode, (":\n" + result.stderr.strip()[-1500:]) if result.returncode != 0 else ""))
        return 69 if result.returncode != 0 else 1
    # Messages name the page, not its checked copy.
    lines = html.unescape(found.group(1)).replace(copy.as_uri(), page.resolve().as_uri()).splitlines()
    # What Chromium itself logged as an uncaught error or a refusal, when the page's hooks saw nothing.
    if not any(line.startswith(("FAIL console", "FAIL script", "FAIL Content")) for line in lines):
        for line in result.stderr.splitlines():
            if ":CONSOLE" in line and re.search(r'"(Uncaught|Refused|Failed to load)', line):
                lines.insert(0, "FAIL console: " + line.split("]", 1)[-1].strip().replace(copy.as_uri(), page.resolve().as_uri()))
    shot = run(chromium, ["--window-size=1240,1754", "--screenshot=%s" % screenshot.resolve(), page.resolve().as_uri()])
    if shot.returncode != 0 or not screenshot.exists():
        lines.append("FAIL no screenshot: Chromium exited %d" % shot.returncode)
    failures = [line for line in lines if line.startswith("FAIL")]
    for line in failures:
        print("%s: %s" % (page, line[5:]))
    summary = next((line for line in lines if line.startswith("CHECKED")), "CHECKED nothing")
    print("%s: %s: %s, %s; screenshot %s" % (page, "FAILED" if failures else "ok", summary[8:],
                                             "%d problem%s" % (len(failures), "" if len(failures) == 1 else "s"), screenshot))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
