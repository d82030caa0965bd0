#!/bin/sh
# plot.svg on a mount: listed, readable before the spec, well-formed SVG 1.1
# (python3's xml module) after a run, and rendered by headless Chromium into
# a non-blank screenshot of the SVG's own size. The screenshot part is
# skipped (exit 77, after the other checks passed) only when
# /usr/bin/chromium is absent and cannot be installed.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mount_fs

E=$MNT/plotted
mkdir "$E" || fail "mkdir"
ls "$E" | grep -qx plot.svg || fail "plot.svg not listed: $(ls "$E" | tr '\n' ' ')"
[ "$(stat -c %a "$E/plot.svg")" = 444 ] || fail "plot.svg mode $(stat -c %a "$E/plot.svg")"
grep -q 'write a Katib Experiment to spec.yaml' "$E/plot.svg" ||
	fail "plot.svg before the spec: $(cat "$E/plot.svg")"
expect_fail "write plot.svg" "Permission denied" sh -c "echo x > '$E/plot.svg'"

spec_yaml "$QUICK" 6 2 >"$E/spec.yaml" || fail "spec"
wait_state plotted Succeeded 60
cp "$E/plot.svg" "$TMP/plot.svg" || fail "read plot.svg"
[ "$(stat -c %s "$E/plot.svg")" = "$(stat -c %s "$TMP/plot.svg")" ] ||
	fail "st_size $(stat -c %s "$E/plot.svg") is not the size read $(stat -c %s "$TMP/plot.svg")"

# Well-formed, SVG 1.1, the size announced, both panels, the metric.
python3 - "$TMP/plot.svg" >"$TMP/size" <<'EOF' || fail "plot.svg does not parse: $(head -c 2000 "$TMP/plot.svg")"
import sys
import xml.dom.minidom

doc = xml.dom.minidom.parse(sys.argv[1])
svg = doc.documentElement
assert svg.tagName == "svg", svg.tagName
assert svg.getAttribute("xmlns") == "http://www.w3.org/2000/svg"
assert svg.getAttribute("version") == "1.1"
w, h = int(svg.getAttribute("width")), int(svg.getAttribute("height"))
assert svg.getAttribute("viewBox") == "0 0 %d %d" % (w, h)
texts = " ".join(t.firstChild.data for t in doc.getElementsByTagName("text")
                 if t.firstChild)
assert "loss per trial (minimize)" in texts, texts
assert "Succeeded 6" in texts, texts
assert "lr" in texts and "layers" in texts, texts
assert len(doc.getElementsByTagName("circle")) >= 6
assert len(doc.getElementsByTagName("polyline")) >= 7  # best + 6 lines
print(w, h)
EOF
read -r W H <"$TMP/size"
[ "$W" = 800 ] && [ "$H" -gt 400 ] || fail "plot size ${W}x$H"

# Learning curves on a real run: 24 trials of three parameters report the
# loss at 12 steps; medianstop stops the bad ones; sgd with a high learning
# rate diverges (losses in the millions). Checked against the run's own
# files: one curve per trial that reported, the end of each early-stopped
# trial marked, the medianstop median drawn, the best trial's curve and
# line drawn last, the diverged values clipped and marked in every panel.
C=$MNT/curves
mkdir "$C" || fail "mkdir curves"
cat >"$TMP/curve.py" <<'EOF'
import math, sys, time
lr, opt, layers = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
base = 0.1 + 0.08 * (math.log10(lr) + 2) ** 2 + 0.03 * abs(layers - 3)
base += {"adam": 0.0, "rmsprop": 0.05, "sgd": 0.12}[opt]
for t in range(1, 13):
    if opt == "sgd" and lr > 0.02:
        loss = 40.0 * 3 ** t
    else:
        loss = base + 1.5 / (1 + 0.5 * t * lr * 100) ** 0.5
    print("loss=%.6f" % loss, flush=True)
    time.sleep(0.02)
EOF
spec_yaml "python3 '$TMP/curve.py' \${trialParameters.lr} \${trialParameters.optimizer} \${trialParameters.layers}" 24 4 |
	yaml_edit '    objectiveMetricName: loss' '    goal: 0.12
    objectiveMetricName: loss' \
	'    algorithmName: random' '    algorithmName: random
    algorithmSettings:
      - name: random_state
        value: "11"
  earlyStopping:
    algorithmName: medianstop
    algorithmSettings:
      - name: min_trials_required
        value: "3"
      - name: start_step
        value: "4"' \
	'  maxFailedTrialCount: 3' '  maxFailedTrialCount: 24' \
	"$SPEC_PARAMETERS" '  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {min: "0.001", max: "0.3", distribution: logUniform}
    - name: optimizer
      parameterType: categorical
      feasibleSpace:
        list: [adam, sgd, rmsprop]
    - name: layers
      parameterType: int
      feasibleSpace: {min: "1", max: "6"}' \
	"$SPEC_TRIAL_PARAMETERS" '    trialParameters:
      - name: lr
        reference: lr
      - name: optimizer
        reference: optimizer
      - name: layers
        reference: layers' >"$TMP/curves.yaml" || fail "curves spec"
cp "$TMP/curves.yaml" "$C/spec.yaml" || fail "curves spec rejected: $(tail -n 3 "$C/events")"
wait_state curves Succeeded 120
cp "$C/plot.svg" "$TMP/curves.svg" || fail "read curves plot.svg"
for n in $(ls "$C/trials"); do
	printf '%s %s %s\n' "$n" "$(sed -n 's/^state=//p' "$C/trials/$n/status")" \
		"$(sed -n 's/^observations=//p' "$C/trials/$n/status")"
done >"$TMP/curves.trials"
python3 - "$TMP/curves.svg" "$TMP/curves.trials" "$(status_value curves best_trial)" \
	"$C/trials.csv" <<'EOF' || fail "curves plot.svg: $(head -c 3000 "$TMP/curves.svg")"
import csv
import sys
import xml.dom.minidom

doc = xml.dom.minidom.parse(sys.argv[1])
trials = [l.split() for l in open(sys.argv[2])]
best = sys.argv[3]
panels = {g.getAttribute("id"): g for g in doc.getElementsByTagName("g")
          if g.getAttribute("class") == "panel"}
# these three in this order (other panels may come between or after)
order = [p for p in panels if p in ("panel-objective", "panel-curves", "panel-parallel")]
assert order == ["panel-objective", "panel-curves", "panel-parallel"], list(panels)


def with_class(panel, cls):
    return [e for e in panels[panel].getElementsByTagName("*")
            if cls in e.getAttribute("class").split()]


def title(e):
    t = e.getElementsByTagName("title")
    return t[0].firstChild.data if t else ""


reported = [t for t in trials if int(t[2]) > 0]
stopped = [t for t in trials if t[1] == "EarlyStopped"]
assert len(reported) == 24, trials
assert stopped, "medianstop stopped nothing: %s" % trials
curves = with_class("panel-curves", "curve")
assert len(curves) == len(reported), (len(curves), len(reported))
assert len(with_class("panel-curves", "end-early-stopped")) == len(stopped)
assert len(with_class("panel-curves", "median")) == 1
assert curves[-1].getAttribute("class") == "curve curve-best", curves[-1].toxml()
assert title(curves[-1]) == "trial %s (Succeeded)" % best, (title(curves[-1]), best)
lines = with_class("panel-parallel", "pc-line")
assert title(lines[-1]).startswith("trial %s " % best), title(lines[-1])
assert "pc-best" in lines[-1].getAttribute("class").split()
diverged = [r for r in csv.DictReader(open(sys.argv[4])) if r["loss"] and float(r["loss"]) > 100]
assert diverged, "no trial diverged: the run does not test clipping"
for p in order:  # the panels with a value axis
    assert with_class(p, "clipped"), "nothing clipped in " + p
ticks = [float(t.firstChild.data) for t in panels["panel-objective"].getElementsByTagName("text")
         if t.firstChild and t.getAttribute("text-anchor") == "end"
         and t.firstChild.data.replace(".", "").isdigit()]
assert ticks and max(ticks) < 10, "the value axis spans the diverged trials: %s" % ticks
print("curves: %d drawn, %d early-stopped, %d diverged" % (len(curves), len(stopped), len(diverged)))
EOF

# Jupyter's IPython.display.SVG takes it as it is, where IPython exists.
if /usr/bin/python3 -c 'import IPython' 2>/dev/null; then
	/usr/bin/python3 -c '
import sys
from IPython.display import SVG
s = SVG(filename=sys.argv[1])
assert "<svg" in s._repr_svg_()
' "$E/plot.svg" || fail "IPython.display.SVG rejects plot.svg"
fi

if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" -eq 0 ]; then
	sh "$ROOT/scripts/deps.sh" notebook >"$TMP/deps.log" 2>&1
fi
if [ ! -x /usr/bin/chromium ]; then
	echo "plot.svg checks passed; skip: the screenshot needs /usr/bin/chromium (apt-get install chromium, or sh scripts/deps.sh notebook as root)"
	exit 77
fi

# Render the curves plot like a browser would and look at the pixels of
# each panel (bands from the SVG: each panel's first rule at its top).
# KATIBFS_PLOT_PNG=FILE keeps the screenshot (docs/plot.png comes from it).
python3 - "$TMP/curves.svg" >"$TMP/bands" <<'EOF' || fail "curves.svg bands"
import sys
import xml.dom.minidom

svg = xml.dom.minidom.parse(sys.argv[1]).documentElement
tops = []
for g in svg.getElementsByTagName("g"):
    if g.getAttribute("class") == "panel":
        rules = [l for l in g.getElementsByTagName("line") if l.getAttribute("x1") == "0.0"
                 and l.getAttribute("x2") == "800.0"]
        tops.append("%s:%d" % (g.getAttribute("id")[6:],
                               int(float(rules[0].getAttribute("y1"))) if rules else 0))
print(svg.getAttribute("width"), svg.getAttribute("height"), *tops)
EOF
read -r W H BANDS <"$TMP/bands"
PROFILE=$(mktemp -d "$TMP/chromium.XXXXXX")
timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu \
	--disable-quic --no-first-run --disable-background-networking \
	--disable-component-update --disable-sync --hide-scrollbars \
	--user-data-dir="$PROFILE" --screenshot="$TMP/plot.png" \
	--window-size="$W,$H" "file://$TMP/curves.svg" >"$TMP/chromium.log" 2>&1
[ -s "$TMP/plot.png" ] || fail "no screenshot: $(tail -n 5 "$TMP/chromium.log")"
[ -z "${KATIBFS_PLOT_PNG:-}" ] || cp "$TMP/plot.png" "$KATIBFS_PLOT_PNG"
python3 - "$TMP/plot.png" "$W" "$H" $BANDS <<'EOF' || fail "screenshot check"
import struct
import sys
import zlib


def pixels(path):
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG: (w, h, rows)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and not interlace, (depth, ctype)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 3 if ctype == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, bpp)])
        prev = line
    return w, h, rows


w, h, rows = pixels(sys.argv[1])
want = (int(sys.argv[2]), int(sys.argv[3]))
assert (w, h) == want, "screenshot is %dx%d, expected %dx%d" % (w, h, *want)
flat = [p for row in rows for p in row]
ink = sum(1 for p in flat if p != (255, 255, 255))
colours = len(set(flat))
assert ink > 0.01 * len(flat), "blank: %d non-white pixels" % ink
assert colours > 20, "only %d colours" % colours


def near(p, q, tol=40):
    return all(abs(x - y) <= tol for x, y in zip(p, q))


# The panels: objective, curves, parallel coordinates, each inked, each
# with the colour of what it must show: Succeeded points (#1f77b4); the
# best trial's curve (#2ca02c); the best line (#08306b).
bands = [(a.split(":")[0], int(a.split(":")[1])) for a in sys.argv[4:]]
tops = {name: (top, (bands[i + 1][1] if i + 1 < len(bands) else h))
        for i, (name, top) in enumerate(bands)}
assert bands[0] == ("objective", 0), bands
want = [(0x1f, 0x77, 0xb4), (0x2c, 0xa0, 0x2c), (0x08, 0x30, 0x6b)]
for i, name in enumerate(["objective", "curves", "parallel"]):
    band = [p for row in rows[tops[name][0]:tops[name][1]] for p in row]
    assert sum(1 for p in band if p != (255, 255, 255)) > 0.01 * len(band), "empty " + name
    assert sum(1 for p in band if near(p, want[i], 12)) > 20, "%s: no %s" % (name, want[i])
print("screenshot %dx%d, %d%% ink, %d colours" % (w, h, 100 * ink // len(flat), colours))
EOF
exit 0
