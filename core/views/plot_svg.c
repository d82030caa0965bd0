/*
 * plot_svg.c - the SVG writer and the axis arithmetic the panels of
 * plot.svg share (declared in core/views/plot_i.h): text escaping, labels
 * (plain and on a white box), nice ticks, value and step axes, the marker
 * of a clipped value, and the useful range of a set of values.
 *
 * The writer appends to a strbuf and remembers the first allocation
 * failure (struct svg.err), so that drawing code need not check each call.
 *
 * Owns nothing past a call: the SVG goes into the caller's strbuf.
 */
#include "views/plot_i.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the writer ---- */

void svg_printf(struct svg *s, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	if (s->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		s->err = -ENOMEM;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		s->err = strbuf_append(s->b, small, (size_t)n);
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	{
		char *big = malloc((size_t)n + 1);

		if (!big) {
			s->err = -ENOMEM;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(big, (size_t)n + 1, fmt, ap);
		va_end(ap);
		s->err = strbuf_append(s->b, big, (size_t)n);
		free(big);
	}
}

/* Length of the valid UTF-8 sequence at s (1-4) of an XML character, or 0. */
static size_t utf8_char(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c = s[0];

	if (c < 0x80)
		n = 1;
	else if ((c & 0xe0) == 0xc0)
		n = 2, c &= 0x1f;
	else if ((c & 0xf0) == 0xe0)
		n = 3, c &= 0x0f;
	else if ((c & 0xf8) == 0xf0)
		n = 4, c &= 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	if (c < 0x20)
		return 0; /* tab and newline too: labels are one line */
	*cp = c;
	return n;
}

/*
 * Append s as XML character data, at most max characters (an ellipsis
 * marks a cut); bytes that are not valid UTF-8 or not XML characters
 * become '?'.
 */
void svg_text(struct svg *s, const char *str, size_t max)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");
	size_t nchars = 0, n;
	uint32_t cp;

	for (; *p && !s->err; p += n ? n : 1, nchars++) {
		if (nchars == max) {
			svg_printf(s, "\xe2\x80\xa6");
			return;
		}
		n = utf8_char(p, &cp);
		if (!n)
			svg_printf(s, "?");
		else if (cp == '&')
			svg_printf(s, "&amp;");
		else if (cp == '<')
			svg_printf(s, "&lt;");
		else if (cp == '>')
			svg_printf(s, "&gt;");
		else if (cp == '"')
			svg_printf(s, "&quot;");
		else if (cp == '\'')
			svg_printf(s, "&apos;");
		else
			s->err = strbuf_append(s->b, (const char *)p, n);
	}
}

/* <text x y attrs>label</text> */
void svg_label(struct svg *s, double x, double y, const char *attrs,
	       const char *label, size_t max)
{
	svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y,
		   attrs && *attrs ? " " : "", attrs ? attrs : "");
	svg_text(s, label, max);
	svg_printf(s, "</text>\n");
}

void svg_line(struct svg *s, double x0, double y0, double x1, double y1,
	      const char *attrs)
{
	svg_printf(s,
		   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		   "%s/>\n",
		   x0, y0, x1, y1, attrs);
}

void svg_begin(struct svg *s, int height, const char *title)
{
	svg_printf(s,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\" "
		   "standalone=\"no\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		   "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		   "font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\" "
		   "font-size=\"12\">\n<title>",
		   PLOT_WIDTH, height, PLOT_WIDTH, height);
	svg_text(s, title, 200);
	svg_printf(s,
		   "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" "
		   "height=\"%d\" fill=\"#ffffff\"/>\n",
		   PLOT_WIDTH, height);
}

void svg_end(struct svg *s)
{
	svg_printf(s, "</svg>\n");
}

/* ---- numbers ---- */

/* Heckbert's nice numbers: 1, 2, 5 (or 10) times a power of ten. */
static double nice_num(double x, int round)
{
	double e = floor(log10(x)), f = x / pow(10, e), nf;

	if (round)
		nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
	else
		nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return nf * pow(10, e);
}

/* Widen an empty or inverted range so that it can be drawn. */
void widen(double *lo, double *hi)
{
	double d;

	if (*hi > *lo)
		return;
	d = fabs(*lo) > 1e-300 ? fabs(*lo) * 0.1 : 1;
	*lo -= d;
	*hi += d;
}

/* An axis from a nice number below lo to one above hi, ~n ticks. */
void axis_nice(struct axis *a, double lo, double hi, int n, double min_step)
{
	widen(&lo, &hi);
	a->step = nice_num(nice_num(hi - lo, 0) / (n - 1), 1);
	if (a->step < min_step)
		a->step = min_step;
	a->lo = floor(lo / a->step) * a->step;
	a->hi = ceil(hi / a->step) * a->step;
	if (!(a->hi > a->lo))
		a->hi = a->lo + a->step;
}

/* The i-th tick of a, snapped to 0 when rounding left a speck. */
double axis_tick(const struct axis *a, double first, int i)
{
	double v = first + i * a->step;

	return fabs(v) < a->step * 1e-9 ? 0 : v;
}

void format_tick(double v, double step, double maxabs, char *buf, size_t size)
{
	int frac = (int)-floor(log10(step) + 1e-9), prec;

	if (maxabs >= 1e6 || (maxabs > 0 && maxabs < 1e-3) || frac > 6) {
		prec = (int)ceil(log10(maxabs / step) - 1e-9) + 1;
		prec = prec < 1 ? 1 : prec > 15 ? 15 : prec;
		snprintf(buf, size, "%.*g", prec, v);
	} else {
		snprintf(buf, size, "%.*f", frac > 0 ? frac : 0, v);
	}
}

/* A value in labels: short and readable. */
void format_value(double v, char *buf, size_t size)
{
	snprintf(buf, size, "%.6g", v);
}

double map(double v, double lo, double hi, double p0, double p1)
{
	return hi > lo ? p0 + (v - lo) / (hi - lo) * (p1 - p0) : (p0 + p1) / 2;
}

double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Characters (not bytes) of a UTF-8 string, at most max + 1. */
static size_t text_chars(const char *str, size_t max)
{
	size_t n = 0;

	for (; str && *str && n <= max; str++)
		n += ((unsigned char)*str & 0xc0) != 0x80;
	return n;
}

void svg_label_boxed(struct svg *s, double x, double y, char anchor,
		     double size, const char *attrs, const char *label,
		     size_t max)
{
	double w = (double)text_chars(label, max) * size * 0.62 + 6, x0;
	char a[160];

	x0 = anchor == 'e' ? x - w + 3 : anchor == 'm' ? x - w / 2 : x - 3;
	svg_printf(s,
		   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		   "rx=\"2\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\n",
		   x0, y - size * 0.95, w, size * 1.3);
	snprintf(a, sizeof(a), "text-anchor=\"%s\" font-size=\"%g\"%s%s",
		 anchor == 'e'	 ? "end"
		 : anchor == 'm' ? "middle"
				 : "start",
		 size, attrs && *attrs ? " " : "", attrs ? attrs : "");
	svg_label(s, x, y, a, label, max);
}

/* ---- axes ---- */

void plot_y_axis(struct svg *s, const struct frame *f, const struct axis *a)
{
	double maxabs = fmax(fabs(a->lo), fabs(a->hi)), v, y;
	char buf[48];
	int i;

	for (i = 0; (v = axis_tick(a, a->lo, i)) <= a->hi + a->step / 2; i++) {
		y = map(v, a->lo, a->hi, f->y1, f->y0);
		svg_line(s, f->x0, y, f->x1, y, "stroke=\"" GRID_COLOUR "\"");
		svg_line(s, f->x0 - 5, y, f->x0, y,
			 "stroke=\"" AXIS_COLOUR "\"");
		format_tick(v, a->step, maxabs, buf, sizeof(buf));
		svg_label(s, f->x0 - 8, y + 4, "text-anchor=\"end\"", buf,
			  TICK_MAX);
	}
}

void plot_x_axis(struct svg *s, const struct frame *f, const struct axis *a)
{
	double v, x;
	char buf[48];
	int i;

	for (i = 0; (v = axis_tick(a, a->lo, i)) <= a->hi + a->step / 2; i++) {
		x = map(v, a->lo, a->hi, f->x0, f->x1);
		svg_line(s, x, f->y1, x, f->y1 + 5,
			 "stroke=\"" AXIS_COLOUR "\"");
		snprintf(buf, sizeof(buf), "%.0f", v);
		svg_label(s, x, f->y1 + 19, "text-anchor=\"middle\"", buf,
			  TICK_MAX);
	}
}

/* A label rotated along the left edge, centred on the frame. */
static void y_label(struct svg *s, const struct frame *f, const char *label)
{
	double cy = (f->y0 + f->y1) / 2;

	svg_printf(s,
		   "<text x=\"20\" y=\"%.1f\" text-anchor=\"middle\" "
		   "transform=\"rotate(-90 20 %.1f)\">",
		   cy, cy);
	svg_text(s, label, 70);
	svg_printf(s, "</text>\n");
}

void plot_frame(struct svg *s, const struct frame *f, const char *xlabel,
		const char *ylabel)
{
	svg_printf(s,
		   "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
		   "height=\"%.1f\" fill=\"none\" stroke=\"" AXIS_COLOUR
		   "\"/>\n",
		   f->x0, f->y0, f->x1 - f->x0, f->y1 - f->y0);
	svg_label(s, (f->x0 + f->x1) / 2, f->y1 + 38, "text-anchor=\"middle\"",
		  xlabel, 60);
	y_label(s, f, ylabel);
}

double plot_y(const struct frame *f, const struct axis *a, double v, int *clip)
{
	if (clip)
		*clip = v < a->lo ? -1 : v > a->hi ? 1 : 0;
	return map(clampd(v, a->lo, a->hi), a->lo, a->hi, f->y1, f->y0);
}

void plot_clip_marker(struct svg *s, double x, double y, int up,
		      const char *colour)
{
	double d = up ? -1 : 1;

	svg_printf(s,
		   "<path class=\"clipped\" fill=\"%s\" stroke=\"#ffffff\" "
		   "stroke-width=\"0.5\" d=\"M%.1f %.1fl5.5 %.1fh-11z\"/>\n",
		   colour, x, y + 8 * d, -9.5 * d);
}

void plot_mark_square(struct svg *s, double x, double y, const char *colour,
		      const char *cls)
{
	svg_printf(s,
		   "<rect%s%s%s x=\"%.1f\" y=\"%.1f\" width=\"7\" "
		   "height=\"7\" fill=\"%s\" stroke=\"#ffffff\" "
		   "stroke-width=\"0.5\"/>\n",
		   cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "",
		   x - 3.5, y - 3.5, colour);
}

void plot_mark_cross(struct svg *s, double x, double y, const char *colour,
		     const char *cls)
{
	svg_printf(s,
		   "<path%s%s%s stroke=\"%s\" stroke-width=\"2\" "
		   "d=\"M%.1f %.1fl8 8m0 -8l-8 8\"/>\n",
		   cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "",
		   colour, x - 4, y - 4);
}

void plot_legend_item(struct svg *s, double *x, double *y, const char *colour,
		      enum legend_kind kind, const char *label)
{
	double w = 18 + 7.0 * (double)text_chars(label, 60) + 16;

	if (*x + w > PLOT_WIDTH - MARGIN_R && *x > MARGIN_L) {
		*x = MARGIN_L;
		*y += 16;
	}
	if (kind == LEGEND_DOT)
		svg_printf(s,
			   "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
			   "fill=\"%s\"/>\n",
			   *x + 4, *y - 4, colour);
	else if (kind == LEGEND_SQUARE)
		plot_mark_square(s, *x + 4, *y - 4, colour, NULL);
	else if (kind == LEGEND_CROSS)
		plot_mark_cross(s, *x + 4, *y - 4, colour, NULL);
	else
		svg_printf(s,
			   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			   "y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
			   *x - 4, *y - 4, *x + 14, *y - 4, colour,
			   kind == LEGEND_DASHED ? " stroke-dasharray=\"6,4\""
						 : "");
	svg_label(s, *x + 18, *y, NULL, label, 60);
	*x += w;
}

void plot_band(struct svg *s, double top)
{
	svg_line(s, 0, top, PLOT_WIDTH, top, "stroke=\"#cccccc\"");
}

/* ---- the useful range ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The p-quantile of n >= 1 sorted values, interpolated. */
static double quantile(const double *v, size_t n, double p)
{
	double h = p * (double)(n - 1);
	size_t i = (size_t)h;

	return i + 1 < n ? v[i] + (h - (double)i) * (v[i + 1] - v[i]) : v[i];
}

/* Reorder v[0..n) so that v[k] is the k-th smallest, smaller ones before
 * it and larger ones after (Hoare's selection; expected O(n)). */
static void select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1, i, j;
	double pivot, t;

	while (lo < hi) {
		pivot = v[lo + (hi - lo) / 2];
		i = lo;
		j = hi;
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				t = v[i], v[i] = v[j], v[j] = t;
				i++;
				if (!j--)
					break;
			}
		}
		if (k <= j && j != (size_t)-1)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			return;
	}
}

double plot_median(double *v, size_t n)
{
	double below;
	size_t i;

	select_kth(v, n, n / 2);
	if (n % 2)
		return v[n / 2];
	for (below = v[0], i = 1; i < n / 2; i++) /* the largest below */
		below = v[i] > below ? v[i] : below;
	return (below + v[n / 2]) / 2;
}

/* Narrow [*a, *b] (indices into the m sorted values w) to the values
 * inside the fences 3 interquartile ranges beyond the quartiles (or 1.5
 * times the 5-95% span when the quartiles coincide). */
static void quartile_fences(const double *w, size_t m, size_t *a, size_t *b)
{
	double fence = 3 * (quantile(w, m, 0.75) - quantile(w, m, 0.25));
	double flo, fhi;

	if (!(fence > 0))
		fence = 1.5 * (quantile(w, m, 0.95) - quantile(w, m, 0.05));
	if (!(fence > 0) || !isfinite(fence))
		return;
	flo = quantile(w, m, 0.25) - fence;
	fhi = quantile(w, m, 0.75) + fence;
	while (*a < *b && w[*a] < flo)
		(*a)++;
	while (*b > *a && w[*b] > fhi)
		(*b)--;
}

/*
 * Narrow [*a, *b] further at a gap GAP_RATIO times wider than the span of
 * the values before it, seen from the median: the cluster of trials that
 * diverged to one large value, too many (a quarter or more) for the
 * quartile fences. Cuts fewer than half of the values on either side.
 */
#define GAP_RATIO 3
static void gap_cut(const double *w, size_t m, size_t *a, size_t *b)
{
	size_t i;

	for (i = m / 2; i < *b; i++)
		if (i >= *a && w[i] > w[*a] &&
		    w[i + 1] - w[i] > GAP_RATIO * (w[i] - w[*a])) {
			*b = i;
			break;
		}
	for (i = m / 4; i > *a; i--)
		if (i <= *b && w[*b] > w[i] &&
		    w[i] - w[i - 1] > GAP_RATIO * (w[*b] - w[i])) {
			*a = i;
			break;
		}
}

int plot_useful_range(const double *v, size_t n, double *lo, double *hi)
{
	double *w = malloc((n ? n : 1) * sizeof(*w));
	size_t i, m = 0, a, b;

	if (!w)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			w[m++] = v[i];
	*lo = 1, *hi = 0;
	if (m) {
		qsort(w, m, sizeof(*w), cmp_double);
		a = 0;
		b = m - 1;
		if (m >= 4) {
			quartile_fences(w, m, &a, &b);
			gap_cut(w, m, &a, &b);
		}
		*lo = w[a];
		*hi = w[b];
	}
	free(w);
	return 0;
}
