/*
 * rules.c - Hadoop's identity rules on the gateway: auth_to_local (KerberosName), proxy users
 * (DefaultImpersonationProvider + MachineList) and group mapping (static overrides, else the OS).
 * Everything is parsed once into immutable objects; the query functions only read them.
 */
#include "rules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/log.h"
#include "util/strbuf.h"
#include "util/retry.h"

/* Java's \s: the separators allowed between auth_to_local rules. */
static bool java_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Bounds of s without leading and trailing whitespace. */
static void trim_range(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* ================================================================================================
 * auth_to_local
 *
 * Grammar (KerberosName.ruleParser), rules one after another, whitespace allowed before each:
 *   DEFAULT[/][L]
 *   RULE:[<n>:<format>][(<match>)][s/<from>/<to>/[g]][/][L]
 * A RULE applies to principals with exactly n components: <format> is expanded with $0 = realm,
 * $1.. = components; the result must match <match> entirely; then the first (or with g, every)
 * match of <from> is replaced by <to>; L lowercases. DEFAULT maps name[/host]@<default realm> to
 * name. The first rule that applies wins. A result containing '/' or '@' is an error under the
 * "hadoop" mechanism; when no rule applies that mechanism refuses the principal, while "mit"
 * returns it unchanged. Like Hadoop, DEFAULT ignores a trailing L.
 *
 * Regular expressions: Hadoop compiles <match> and <from> with java.util.regex; we compile them as
 * POSIX extended expressions (regcomp, REG_EXTENDED) after translating the Java spellings people
 * use in these rules: \d \D \w \W \s \S, \t \n \r \f, escaped punctuation (\. \@ \$ ...) both
 * outside and inside [...] (POSIX takes a backslash in brackets literally), and backreferences
 * \1..\9 (a GNU extension). Java-only constructs are refused when the rules are parsed, never
 * silently read another way: (?...) groups and flags, lazy and possessive quantifiers (*? +? ??
 * {..}? and *+ ++ ?+ {..}+), class unions/intersections ([a[b]], &&), negated shorthands inside
 * brackets ([\D]) and other escapes (\b \Q \p \x \u ...). What still differs: POSIX picks the
 * leftmost-LONGEST match where Java picks the first alternative that matches, so
 * s/(a|ab)/X/ turns "ab" into "X" here and "Xb" in Hadoop (<match> is a whole-string test and
 * behaves the same); '.' also matches '\r' and '\n'; matching is byte-wise in the C locale and L
 * lowercases ASCII letters only. <to> follows Java's replacement syntax: $n is group n (a second
 * digit joins when that group exists), \x is a literal x.
 *
 * Errors Hadoop raises only when a rule is used (a $n beyond the rule's components in <format>,
 * a bad $ or \ in <to>, a group <from> does not have) are raised when the rules are parsed.
 * ============================================================================================== */

#define MAX_GROUP_REF 32 /* highest $n allowed in <to> + 1 */

struct a2l_rule {
	bool is_default, lower, global;
	int ncomp;
	char *format;         /* RULE only */
	bool has_match, has_from;
	regex_t match;        /* "^(<match>)$" */
	regex_t from;
	char *to;
	char *text;           /* the rule as written, for messages */
};

/* Immutable once parsed; regexec on a shared compiled pattern is thread-safe (POSIX; glibc locks
 * inside), so every gateway thread may map principals with one sl_auth_rules. */
struct sl_auth_rules {
	struct a2l_rule *rules;
	size_t n;
	char *default_realm;
	bool mit;
};

static void rule_clear(struct a2l_rule *r)
{
	if (r->has_match)
		regfree(&r->match);
	if (r->has_from)
		regfree(&r->from);
	free(r->format);
	free(r->to);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void sl_auth_rules_free(struct sl_auth_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		rule_clear(&r->rules[i]);
	free(r->rules);
	free(r->default_realm);
	free(r);
}

/* A bracket expression element set built from a Java class, re-emitted in POSIX order. */
struct cls {
	bool neg;
	bool has_rbracket, has_lbracket, has_caret, has_dash;
	struct sl_strbuf body; /* chars and ranges other than ] [ ^ - */
};

static void cls_add_char(struct cls *c, char ch)
{
	if (ch == ']')
		c->has_rbracket = true;
	else if (ch == '^')
		c->has_caret = true;
	else if (ch == '-')
		c->has_dash = true;
	else if (ch == '[')
		c->has_lbracket = true; /* kept off "[:" "[." "[=", which POSIX reads as classes */
	else
		sl_strbuf_putc(&c->body, ch);
}

static void cls_emit(struct cls *c, struct sl_strbuf *out)
{
	bool empty_body = c->body.len == 0 && !c->has_lbracket;
	if (!c->neg && c->has_caret && empty_body && !c->has_rbracket && !c->has_dash) {
		sl_strbuf_puts(out, "\\^"); /* "[^]" would be a negation */
		return;
	}
	sl_strbuf_putc(out, '[');
	if (c->neg)
		sl_strbuf_putc(out, '^');
	if (c->has_rbracket)
		sl_strbuf_putc(out, ']');
	if (!c->neg && c->has_caret && empty_body && !c->has_rbracket) {
		sl_strbuf_puts(out, "-^"); /* has_dash here; '-' first, then '^' not in first place */
		sl_strbuf_putc(out, ']');
		return;
	}
	if (c->body.len)
		sl_strbuf_putn(out, c->body.p, c->body.len);
	if (c->has_lbracket)
		sl_strbuf_putc(out, '[');
	if (c->has_caret)
		sl_strbuf_putc(out, '^');
	if (c->has_dash)
		sl_strbuf_putc(out, '-');
	sl_strbuf_putc(out, ']');
}

static const char *shorthand_set(char c)
{
	switch (c) {
	case 'd':
		return "0-9";
	case 'w':
		return "A-Za-z0-9_";
	case 's':
		return " \t\n\v\f\r";
	default:
		return NULL;
	}
}

static int escape_char(char c)
{
	switch (c) {
	case 't':
		return '\t';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 'f':
		return '\f';
	default:
		return ispunct((unsigned char)c) ? c : -1;
	}
}

/* Translates the Java class starting after '[' at re[*i]; *i ends after its ']'. */
static int java_class(const char *re, size_t *i, struct sl_strbuf *out, const char **why)
{
	struct cls c = {0};
	int rc = 0;
	size_t p = *i;
	if (re[p] == '^') {
		c.neg = true;
		p++;
	}
	bool first = true;
	for (;;) {
		char ch = re[p];
		if (!ch) {
			*why = "unclosed [";
			rc = -EINVAL;
			goto out;
		}
		if (ch == ']' && !first)
			break;
		first = false;
		if (ch == '[') {
			*why = "nested classes ([a[b]]) are Java-only";
			rc = -EINVAL;
			goto out;
		}
		if (ch == '&' && re[p + 1] == '&') {
			*why = "class intersections (&&) are Java-only";
			rc = -EINVAL;
			goto out;
		}
		int lit;
		if (ch == '\\') {
			char e = re[p + 1];
			const char *set = shorthand_set(e);
			if (set) {
				sl_strbuf_puts(&c.body, set);
				p += 2;
				continue;
			}
			if (e == 'D' || e == 'W' || e == 'S') {
				*why = "negated shorthands (\\D \\W \\S) inside [...] are not supported";
				rc = -EINVAL;
				goto out;
			}
			lit = e ? escape_char(e) : -1;
			if (lit < 0) {
				*why = "unsupported escape inside [...]";
				rc = -EINVAL;
				goto out;
			}
			p += 2;
		} else {
			lit = (unsigned char)ch;
			p++;
		}
		/* A range lo-hi, unless the '-' is the last thing in the class. */
		if (re[p] == '-' && re[p + 1] && re[p + 1] != ']') {
			int hi;
			size_t q = p + 1;
			if (re[q] == '\\') {
				hi = re[q + 1] ? escape_char(re[q + 1]) : -1;
				q += 2;
			} else if (re[q] == '[') {
				hi = -1;
			} else {
				hi = (unsigned char)re[q];
				q++;
			}
			if (hi < 0 || strchr("]^-", lit) || strchr("]^-", hi)) {
				*why = "unsupported range inside [...]";
				rc = -EINVAL;
				goto out;
			}
			sl_strbuf_putc(&c.body, (char)lit);
			sl_strbuf_putc(&c.body, '-');
			sl_strbuf_putc(&c.body, (char)hi);
			p = q;
			continue;
		}
		cls_add_char(&c, (char)lit);
	}
	*i = p + 1;
	cls_emit(&c, out);
out:
	sl_strbuf_free(&c.body);
	return rc;
}

/* Java regex -> POSIX ERE (see the comment at the top of this section). */
static int java_to_ere(const char *re, struct sl_strbuf *out, const char **why)
{
	size_t i = 0;
	while (re[i]) {
		char ch = re[i];
		if (ch == '\\') {
			char e = re[i + 1];
			const char *set = shorthand_set(e);
			if (set) {
				sl_strbuf_putc(out, '[');
				sl_strbuf_puts(out, set);
				sl_strbuf_putc(out, ']');
			} else if (e == 'D' || e == 'W' || e == 'S') {
				sl_strbuf_puts(out, "[^");
				sl_strbuf_puts(out, shorthand_set((char)tolower((unsigned char)e)));
				sl_strbuf_putc(out, ']');
			} else if (e >= '1' && e <= '9') {
				sl_strbuf_putc(out, '\\');
				sl_strbuf_putc(out, e);
			} else {
				int lit = e ? escape_char(e) : -1;
				if (lit < 0) {
					*why = e ? "unsupported escape (Java-only)" : "trailing backslash";
					return -EINVAL;
				}
				if (strchr(".[]()*+?{}|^$\\", lit))
					sl_strbuf_putc(out, '\\');
				sl_strbuf_putc(out, (char)lit);
			}
			i += 2;
			continue;
		}
		if (ch == '[') {
			i++;
			int rc = java_class(re, &i, out, why);
			if (rc)
				return rc;
			continue;
		}
		if (ch == '(' && re[i + 1] == '?') {
			*why = "(?...) constructs are Java-only";
			return -EINVAL;
		}
		if (strchr("*+?}", ch) && (re[i + 1] == '?' || re[i + 1] == '+')) {
			*why = "lazy and possessive quantifiers are Java-only";
			return -EINVAL;
		}
		sl_strbuf_putc(out, ch);
		i++;
	}
	return 0;
}

/* Compiles a Java-syntax regex; anchored: must match the whole string. */
static int compile_java(const char *java, bool anchored, regex_t *re, const char *rule_text,
			struct sl_err *err)
{
	struct sl_strbuf ere = {0};
	const char *why = NULL;
	int rc = java_to_ere(java, &ere, &why);
	if (rc) {
		rc = sl_errf(err, -EINVAL, "auth_to_local rule %s: regex '%s': %s", rule_text, java, why);
		goto out;
	}
	if (!sl_strbuf_str(&ere)) {
		rc = sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
		goto out;
	}
	/* Compile as written first, so that a stray '(' is an error rather than being closed by our
	 * anchoring parentheses. */
	int e = regcomp(re, ere.p, REG_EXTENDED);
	if (e == 0 && anchored) {
		regfree(re);
		struct sl_strbuf wrapped = {0};
		sl_strbuf_puts(&wrapped, "^(");
		sl_strbuf_puts(&wrapped, ere.p);
		sl_strbuf_puts(&wrapped, ")$");
		if (!sl_strbuf_str(&wrapped)) {
			sl_strbuf_free(&wrapped);
			rc = sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
			goto out;
		}
		e = regcomp(re, wrapped.p, REG_EXTENDED);
		sl_strbuf_free(&wrapped);
	}
	if (e) {
		char msg[128];
		regerror(e, NULL, msg, sizeof(msg));
		rc = sl_errf(err, -EINVAL, "auth_to_local rule %s: bad regex '%s': %s", rule_text, java,
			     msg);
	}
out:
	sl_strbuf_free(&ere);
	return rc;
}

/* Expands a <format> ($n = params[n]) into out, or checks it when params is NULL (then n is the
 * number of components). Java's parameter syntax: '$' must be followed by digits. */
static int expand_format(const char *fmt, const char *const *params, int ncomp, struct sl_strbuf *out,
			 const char **why)
{
	for (size_t i = 0; fmt[i];) {
		if (fmt[i] != '$') {
			if (out)
				sl_strbuf_putc(out, fmt[i]);
			i++;
			continue;
		}
		i++;
		if (!isdigit((unsigned char)fmt[i])) {
			*why = "'$' must be followed by a component number";
			return -EINVAL;
		}
		long num = 0;
		while (isdigit((unsigned char)fmt[i])) {
			num = num * 10 + (fmt[i] - '0');
			if (num > INT_MAX) {
				*why = "component number too large";
				return -EINVAL;
			}
			i++;
		}
		if (num > ncomp) {
			*why = "component number beyond the rule's component count";
			return -EINVAL;
		}
		if (out && params)
			sl_strbuf_puts(out, params[num]);
	}
	return 0;
}

/* Expands a Java replacement string for one match (pm, of subject s), or checks it when s is NULL
 * (ngroups = the pattern's group count). */
static int expand_replacement(const char *to, const char *s, const regmatch_t *pm, size_t ngroups,
			      struct sl_strbuf *out, const char **why)
{
	for (size_t i = 0; to[i];) {
		char c = to[i];
		if (c == '\\') {
			if (!to[i + 1]) {
				*why = "trailing backslash in replacement";
				return -EINVAL;
			}
			if (s)
				sl_strbuf_putc(out, to[i + 1]);
			i += 2;
			continue;
		}
		if (c != '$') {
			if (s)
				sl_strbuf_putc(out, c);
			i++;
			continue;
		}
		i++;
		if (!isdigit((unsigned char)to[i])) {
			if (to[i] == '{')
				*why = "named groups (${name}) are not supported";
			else
				*why = "'$' in a replacement must be followed by a group number "
				       "(write \\$ for a dollar)";
			return -EINVAL;
		}
		size_t g = (size_t)(to[i] - '0');
		i++;
		if (g > ngroups) {
			*why = "replacement refers to a group the pattern does not have";
			return -EINVAL;
		}
		/* Java: further digits join while the number stays a valid group. */
		while (isdigit((unsigned char)to[i])) {
			size_t g2 = g * 10 + (size_t)(to[i] - '0');
			if (g2 > ngroups)
				break;
			g = g2;
			i++;
		}
		if (g >= MAX_GROUP_REF) {
			*why = "replacement refers to too high a group";
			return -EINVAL;
		}
		if (s && pm[g].rm_so >= 0)
			sl_strbuf_putn(out, s + pm[g].rm_so, (size_t)(pm[g].rm_eo - pm[g].rm_so));
	}
	return 0;
}

static size_t max_group_ref(const char *to)
{
	size_t m = 0;
	for (size_t i = 0; to[i]; i++) {
		if (to[i] == '\\' && to[i + 1]) {
			i++;
		} else if (to[i] == '$') {
			size_t g = 0;
			while (isdigit((unsigned char)to[i + 1]) && g < MAX_GROUP_REF) {
				g = g * 10 + (size_t)(to[i + 1] - '0');
				i++;
			}
			if (g > m)
				m = g;
		}
	}
	return m < MAX_GROUP_REF ? m : MAX_GROUP_REF - 1;
}

/* Parses one rule at text[*pos]; *pos ends after it. */
static int parse_rule(const char *text, size_t *pos, struct a2l_rule *r, struct sl_err *err)
{
	const char *s = text + *pos;
	const char *p = s;
	const char *why = NULL;
	int rc = 0;

	if (!strncmp(p, "DEFAULT", 7)) {
		r->is_default = true;
		p += 7;
	} else if (!strncmp(p, "RULE:[", 6)) {
		p += 6;
		long n = 0;
		const char *digits = p;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p - '0');
			if (n > INT_MAX)
				break;
			p++;
		}
		if (p == digits || n > INT_MAX || *p != ':') {
			why = "expected RULE:[<components>:<format>]";
			goto bad;
		}
		r->ncomp = (int)n;
		p++;
		const char *close = strchr(p, ']');
		if (!close) {
			why = "missing ']' after the format";
			goto bad;
		}
		r->format = strndup(p, (size_t)(close - p));
		if (!r->format)
			goto oom;
		p = close + 1;
		const char *m_start = NULL, *m_end = NULL;
		if (*p == '(') {
			m_end = strchr(p + 1, ')');
			if (!m_end) {
				why = "missing ')' after the match pattern";
				goto bad;
			}
			m_start = p + 1;
			p = m_end + 1;
		}
		const char *f_start = NULL, *f_end = NULL, *t_start = NULL, *t_end = NULL;
		if (*p == 's') {
			if (p[1] != '/' || !(f_end = strchr(p + 2, '/')) ||
			    !(t_end = strchr(f_end + 1, '/'))) {
				why = "expected s/<pattern>/<replacement>/";
				goto bad;
			}
			f_start = p + 2;
			t_start = f_end + 1;
			p = t_end + 1;
			if (*p == 'g') {
				r->global = true;
				p++;
			}
		}
		if (*p == '/')
			p++;
		if (*p == 'L') {
			r->lower = true;
			p++;
		}
		r->text = strndup(s, (size_t)(p - s));
		if (!r->text)
			goto oom;
		rc = expand_format(r->format, NULL, r->ncomp, NULL, &why);
		if (rc)
			goto bad;
		if (m_start) {
			char *m = strndup(m_start, (size_t)(m_end - m_start));
			if (!m)
				goto oom;
			rc = compile_java(m, true, &r->match, r->text, err);
			free(m);
			if (rc)
				goto out;
			r->has_match = true;
		}
		if (f_start) {
			char *f = strndup(f_start, (size_t)(f_end - f_start));
			if (!f)
				goto oom;
			rc = compile_java(f, false, &r->from, r->text, err);
			free(f);
			if (rc)
				goto out;
			r->has_from = true;
			r->to = strndup(t_start, (size_t)(t_end - t_start));
			if (!r->to)
				goto oom;
			rc = expand_replacement(r->to, NULL, NULL, r->from.re_nsub, NULL, &why);
			if (rc)
				goto bad;
		}
		*pos += (size_t)(p - s);
		return 0;
	} else {
		why = "expected DEFAULT or RULE:[...]";
		goto bad;
	}
	/* DEFAULT[/][L]: the L is accepted and, as in Hadoop, has no effect. */
	if (*p == '/')
		p++;
	if (*p == 'L')
		p++;
	r->text = strndup(s, (size_t)(p - s));
	if (!r->text)
		goto oom;
	*pos += (size_t)(p - s);
	return 0;
bad: {
	/* Name the rule: up to the end of its line, cut if long. */
	size_t n = strcspn(s, "\n");
	rc = sl_errf(err, -EINVAL, "invalid auth_to_local rule '%.*s': %s", (int)(n > 200 ? 200 : n),
		     s, why);
	goto out;
}
oom:
	rc = sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
out:
	return rc;
}

int sl_auth_rules_parse(const char *text, const char *default_realm, const char *mechanism,
			struct sl_auth_rules **out, struct sl_err *err)
{
	int rc = 0;
	char *trimmed = NULL;
	*out = NULL;
	struct sl_auth_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
	if (!mechanism || !*mechanism || !strcasecmp(mechanism, "hadoop")) {
		r->mit = false;
	} else if (!strcasecmp(mechanism, "mit")) {
		r->mit = true;
	} else {
		rc = sl_errf(err, -EINVAL,
			     "invalid auth_to_local mechanism '%s': expected 'hadoop' or 'mit'", mechanism);
		goto out;
	}
	r->default_realm = strdup(default_realm ? default_realm : "");
	if (!text)
		text = "";
	/* Java's String.trim(): every char <= ' ' at both ends. */
	const char *start = text;
	size_t len = strlen(text);
	while (len && (unsigned char)*start <= ' ') {
		start++;
		len--;
	}
	while (len && (unsigned char)start[len - 1] <= ' ')
		len--;
	trimmed = strndup(start, len);
	if (!r->default_realm || !trimmed) {
		rc = sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
		goto out;
	}
	if (!*trimmed) {
		free(trimmed);
		trimmed = strdup("DEFAULT");
		if (!trimmed) {
			rc = sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
			goto out;
		}
	}
	size_t cap = 0, pos = 0;
	while (trimmed[pos]) {
		while (java_space(trimmed[pos]))
			pos++;
		if (r->n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct a2l_rule *nr = realloc(r->rules, ncap * sizeof(*nr));
			if (!nr) {
				rc = sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
				goto out;
			}
			r->rules = nr;
			cap = ncap;
		}
		struct a2l_rule *rule = &r->rules[r->n];
		memset(rule, 0, sizeof(*rule));
		rc = parse_rule(trimmed, &pos, rule, err);
		if (rc) {
			rule_clear(rule);
			goto out;
		}
		r->n++;
	}
	*out = r;
	r = NULL;
out:
	free(trimmed);
	sl_auth_rules_free(r);
	return rc;
}

/* Applies s/<from>/<to>/[g] to base with Java's Matcher.replaceFirst/replaceAll loop: after an
 * empty match the next search starts one character further. */
static int substitute(const struct a2l_rule *r, const char *base, struct sl_strbuf *out)
{
	size_t len = strlen(base), from = 0, copied = 0;
	size_t nmatch = max_group_ref(r->to) + 1;
	regmatch_t pm[MAX_GROUP_REF];
	while (from <= len) {
		int e = regexec(&r->from, base + from, nmatch, pm, from ? REG_NOTBOL : 0);
		if (e == REG_NOMATCH)
			break;
		if (e)
			return -EINVAL;
		for (size_t g = 0; g < nmatch; g++) {
			if (pm[g].rm_so >= 0) {
				pm[g].rm_so += (regoff_t)from;
				pm[g].rm_eo += (regoff_t)from;
			}
		}
		sl_strbuf_putn(out, base + copied, (size_t)pm[0].rm_so - copied);
		const char *why = NULL;
		int rc = expand_replacement(r->to, base, pm, r->from.re_nsub, out, &why);
		if (rc)
			return rc;
		copied = (size_t)pm[0].rm_eo;
		if (!r->global)
			break;
		from = pm[0].rm_eo == pm[0].rm_so ? (size_t)pm[0].rm_eo + 1 : (size_t)pm[0].rm_eo;
	}
	sl_strbuf_putn(out, base + copied, len - copied);
	return 0;
}

/* One rule against params (realm, components); *applies says whether it produced out. */
static int apply_rule(const struct sl_auth_rules *rs, const struct a2l_rule *r,
		      const char *const *params, int ncomp, bool has_realm, struct sl_strbuf *out,
		      bool *applies)
{
	*applies = false;
	if (r->is_default) {
		if (has_realm && !strcmp(params[0], rs->default_realm)) {
			sl_strbuf_puts(out, params[1]);
			*applies = true;
		}
		return 0;
	}
	if (ncomp != r->ncomp)
		return 0;
	struct sl_strbuf base = {0};
	const char *why = NULL;
	int rc = expand_format(r->format, params, ncomp, &base, &why);
	if (rc)
		goto out;
	if (!sl_strbuf_str(&base)) {
		rc = -ENOMEM;
		goto out;
	}
	if (r->has_match) {
		int e = regexec(&r->match, base.p, 0, NULL, 0);
		if (e == REG_NOMATCH)
			goto out;
		if (e) {
			rc = -EINVAL;
			goto out;
		}
	}
	if (r->has_from) {
		rc = substitute(r, base.p, out);
		if (rc)
			goto out;
	} else {
		sl_strbuf_puts(out, base.p);
	}
	if (r->lower && out->p)
		for (char *c = out->p; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	*applies = true;
out:
	sl_strbuf_free(&base);
	return rc;
}

int sl_auth_rules_map(const struct sl_auth_rules *r, const char *principal, char *out,
		      size_t size, struct sl_err *err)
{
	int rc = 0;
	char *copy = NULL;
	struct sl_strbuf res = {0};
	if (!principal || !*principal)
		return sl_errf(err, -EINVAL, "empty Kerberos principal");

	/* KerberosName: name[/host][@realm], every part non-empty, no more '/' or '@'. */
	copy = strdup(principal);
	if (!copy)
		return sl_errf(err, -ENOMEM, "out of memory mapping principal %s", principal);
	char *at = strchr(copy, '@');
	char *realm = NULL;
	if (at) {
		*at = 0;
		realm = at + 1;
	}
	char *slash = strchr(copy, '/');
	char *host = NULL;
	if (slash) {
		*slash = 0;
		host = slash + 1;
	}
	bool well_formed = *copy && (!host || (*host && !strchr(host, '/'))) &&
			   (!realm || (*realm && !strpbrk(realm, "/@")));
	if (!well_formed) {
		if (at) {
			rc = sl_errf(err, -EINVAL, "malformed Kerberos principal '%s'", principal);
			goto out;
		}
		/* Hadoop takes a string without '@' that is not a name as a short name as is. */
		sl_strbuf_puts(&res, principal);
	} else if (!host && !realm) {
		sl_strbuf_puts(&res, copy); /* already a short name */
	} else {
		const char *params[3] = {realm ? realm : "", copy, host};
		int ncomp = host ? 2 : 1;
		bool applied = false;
		for (size_t i = 0; i < r->n && !applied; i++) {
			const struct a2l_rule *rule = &r->rules[i];
			rc = apply_rule(r, rule, params, ncomp, realm != NULL, &res, &applied);
			if (rc) {
				rc = sl_errf(err, rc, "auth_to_local rule %s failed on %s", rule->text,
					     principal);
				goto out;
			}
			if (applied && !r->mit && res.p && strpbrk(res.p, "/@")) {
				rc = sl_errf(err, -EACCES,
					     "principal %s maps to non-simple name '%s' after auth_to_local rule %s",
					     principal, res.p, rule->text);
				goto out;
			}
		}
		if (!applied) {
			if (!r->mit) {
				rc = sl_errf(err, -EACCES,
					     "no auth_to_local rule applies to principal %s (check auth-to-local)",
					     principal);
				goto out;
			}
			sl_strbuf_puts(&res, principal);
		}
	}
	if (!sl_strbuf_str(&res)) {
		rc = sl_errf(err, -ENOMEM, "out of memory mapping principal %s", principal);
		goto out;
	}
	if (!*res.p) {
		rc = sl_errf(err, -EACCES, "principal %s maps to an empty user name", principal);
		goto out;
	}
	if (!r->mit && strpbrk(res.p, "/@")) {
		rc = sl_errf(err, -EACCES, "principal %s is not a valid short name", principal);
		goto out;
	}
	if (res.len + 1 > size) {
		rc = sl_errf(err, -ERANGE, "user name for principal %s is longer than %zu bytes",
			     principal, size ? size - 1 : 0);
		goto out;
	}
	memcpy(out, res.p, res.len + 1);
out:
	sl_strbuf_free(&res);
	free(copy);
	return rc;
}

/* ================================================================================================
 * Proxy users (Hadoop's DefaultImpersonationProvider with MachineList)
 *
 * proxyuser.<real>.users / .groups: who <real> may act for ("*" in either: anyone); without either
 * key, nobody. proxyuser.<real>.hosts: where <real> must connect from ("*": anywhere); without it,
 * nowhere. Hosts are IPv4/IPv6 addresses, CIDR ranges (both families) or host names; we resolve
 * names to addresses here, once, where Hadoop resolves the client's address back to a name on
 * every check. IPv4-mapped IPv6 addresses count as their IPv4 address. Acting as oneself is not
 * impersonation and is always allowed (Hadoop's server does not consult the rules then).
 * Stricter than Hadoop: a "*" next to other entries, a malformed CIDR range and a key such as
 * proxyuser.hive.hostz are refused at parse time (Hadoop would take "*" as a literal name there,
 * and ignore the unknown key); user names in keys may contain dots (Hadoop ignores such keys).
 * ============================================================================================== */

struct net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int prefix;
};

struct proxy_entry {
	char *real;
	bool has_acl, any_user, any_group; /* "*" as users or as groups: anyone */
	char **users, **groups;
	size_t nusers, ngroups;
	bool has_hosts, all_hosts;
	struct net *nets;
	size_t nnets;
};

struct sl_proxy_rules {
	struct proxy_entry *e;
	size_t n;
};

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

static void entry_clear(struct proxy_entry *e)
{
	free(e->real);
	free_list(e->users, e->nusers);
	free_list(e->groups, e->ngroups);
	free(e->nets);
	memset(e, 0, sizeof(*e));
}

void sl_proxy_rules_free(struct sl_proxy_rules *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		entry_clear(&r->e[i]);
	free(r->e);
	free(r);
}

/* Splits a comma-separated value into trimmed, non-empty items. */
static int split_list(const char *v, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	for (const char *p = v; p && *p;) {
		size_t len = strcspn(p, ",");
		const char *item = p;
		size_t ilen = len;
		trim_range(&item, &ilen);
		if (ilen) {
			if (*n == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				char **nl = realloc(*out, ncap * sizeof(*nl));
				if (!nl)
					goto oom;
				*out = nl;
				cap = ncap;
			}
			(*out)[*n] = strndup(item, ilen);
			if (!(*out)[*n])
				goto oom;
			(*n)++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return 0;
oom:
	free_list(*out, *n);
	*out = NULL;
	*n = 0;
	return -ENOMEM;
}

static bool is_wildcard(const char *v)
{
	const char *s = v ? v : "";
	size_t n = strlen(s);
	trim_range(&s, &n);
	return n == 1 && *s == '*';
}

/* Parses a numeric address (optionally in brackets, with a %zone) into n with a full prefix;
 * IPv4-mapped IPv6 becomes IPv4. */
static bool parse_addr(const char *s, struct net *n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
		s++;
		len -= 2;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *zone = strchr(buf, '%');
	if (zone)
		*zone = 0;
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		n->prefix = 32;
		return true;
	}
	if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (!memcmp(n->addr, mapped, 12)) {
			memmove(n->addr, n->addr + 12, 4);
			memset(n->addr + 4, 0, 12);
			n->family = AF_INET;
			n->prefix = 32;
		} else {
			n->family = AF_INET6;
			n->prefix = 128;
		}
		return true;
	}
	return false;
}

static bool net_contains(const struct net *net, const struct net *a)
{
	if (net->family != a->family)
		return false;
	int bits = net->prefix, i = 0;
	for (; bits >= 8; bits -= 8, i++)
		if (net->addr[i] != a->addr[i])
			return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));
		if ((net->addr[i] & mask) != (a->addr[i] & mask))
			return false;
	}
	return true;
}

static int add_net(struct proxy_entry *e, const struct net *n, size_t *cap)
{
	if (e->nnets == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct net *nn = realloc(e->nets, ncap * sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		e->nets = nn;
		*cap = ncap;
	}
	e->nets[e->nnets++] = *n;
	return 0;
}

/* Resolves a host name into addresses; a name that does not resolve adds nothing (as Hadoop,
 * which skips it), with a warning. */
static int add_host(struct proxy_entry *e, const char *host, size_t *cap)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	const struct sl_retry_policy policy = {.max_attempts = 3, .base_ms = 100, .max_ms = 1000};
	int e_ai = 0;
	for (int attempt = 0; attempt < policy.max_attempts; attempt++) {
		if (attempt)
			sl_backoff(&policy, attempt);
		e_ai = getaddrinfo(host, NULL, &hints, &res);
		if (e_ai != EAI_AGAIN)
			break;
	}
	if (e_ai) {
		if (e_ai == EAI_MEMORY)
			return -ENOMEM;
		sl_log(NULL, SL_LOG_WARN, "proxyuser.%s.hosts: cannot resolve '%s' (%s); ignoring it",
		       e->real, host, gai_strerror(e_ai));
		return 0;
	}
	int rc = 0;
	for (struct addrinfo *ai = res; ai && !rc; ai = ai->ai_next) {
		char num[INET6_ADDRSTRLEN];
		struct net n;
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, num, sizeof(num), NULL, 0, NI_NUMERICHOST))
			continue;
		if (parse_addr(num, &n))
			rc = add_net(e, &n, cap);
	}
	freeaddrinfo(res);
	return rc;
}

static int parse_hosts(struct proxy_entry *e, const char *key, const char *value,
		       struct sl_err *err)
{
	char **items = NULL;
	size_t n = 0, cap = 0;
	int rc = split_list(value, &items, &n);
	if (rc)
		return sl_errf(err, rc, "out of memory parsing %s", key);
	free(e->nets);
	e->nets = NULL;
	e->nnets = 0;
	e->has_hosts = true;
	e->all_hosts = n == 1 && !strcmp(items[0], "*");
	for (size_t i = 0; i < n && !e->all_hosts; i++) {
		const char *h = items[i];
		struct net net;
		if (!strcmp(h, "*")) {
			rc = sl_errf(err, -EINVAL, "%s: '*' must be the only entry", key);
			goto out;
		}
		const char *slash = strchr(h, '/');
		if (slash) {
			char addr[INET6_ADDRSTRLEN + 8];
			size_t alen = (size_t)(slash - h);
			char *end = NULL;
			long prefix = strtol(slash + 1, &end, 10);
			bool ok = alen < sizeof(addr) && isdigit((unsigned char)slash[1]) && !*end;
			if (ok) {
				memcpy(addr, h, alen);
				addr[alen] = 0;
				ok = !strchr(addr, '%') && parse_addr(addr, &net);
			}
			if (ok) {
				/* A mapped IPv6 prefix counts in IPv4 bits. */
				bool mapped = net.family == AF_INET && strchr(addr, ':');
				if (mapped)
					prefix -= 96;
				ok = prefix >= 0 && prefix <= (net.family == AF_INET ? 32 : 128);
			}
			if (!ok) {
				rc = sl_errf(err, -EINVAL, "%s: invalid CIDR range '%s'", key, h);
				goto out;
			}
			net.prefix = (int)prefix;
			rc = add_net(e, &net, &cap);
		} else if (parse_addr(h, &net)) {
			rc = add_net(e, &net, &cap);
		} else {
			rc = add_host(e, h, &cap);
		}
		if (rc) {
			rc = sl_errf(err, rc, "out of memory parsing %s", key);
			goto out;
		}
	}
out:
	free_list(items, n);
	return rc;
}

static int parse_acl_list(char ***list, size_t *n, bool *all, const char *key, const char *value,
			  struct sl_err *err)
{
	free_list(*list, *n);
	*list = NULL;
	*n = 0;
	*all = false;
	if (is_wildcard(value)) {
		*all = true;
		return 0;
	}
	int rc = split_list(value, list, n);
	if (rc)
		return sl_errf(err, rc, "out of memory parsing %s", key);
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i], "*"))
			return sl_errf(err, -EINVAL, "%s: '*' must be the only entry", key);
	return 0;
}

static struct proxy_entry *find_entry(const struct sl_proxy_rules *r, const char *real,
				      size_t real_len)
{
	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->e[i].real) == real_len && !memcmp(r->e[i].real, real, real_len))
			return &r->e[i];
	return NULL;
}

int sl_proxy_rules_parse(const char *const *keys, const char *const *values, size_t n,
			 struct sl_proxy_rules **out, struct sl_err *err)
{
	static const char prefix[] = "proxyuser.";
	int rc = 0;
	size_t cap = 0;
	*out = NULL;
	struct sl_proxy_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return sl_errf(err, -ENOMEM, "out of memory parsing proxy user rules");
	for (size_t i = 0; i < n; i++) {
		const char *key = keys[i];
		const char *value = values[i] ? values[i] : "";
		if (!key || strncmp(key, prefix, sizeof(prefix) - 1))
			continue; /* not ours */
		const char *real = key + sizeof(prefix) - 1;
		const char *dot = strrchr(real, '.');
		const char *kind = dot ? dot + 1 : "";
		bool hosts = !strcmp(kind, "hosts"), users = !strcmp(kind, "users");
		if (!dot || dot == real || !(hosts || users || !strcmp(kind, "groups"))) {
			rc = sl_errf(err, -EINVAL,
				     "invalid proxy user key '%s': expected proxyuser.<user>.hosts, .users or .groups",
				     key);
			goto out;
		}
		size_t real_len = (size_t)(dot - real);
		struct proxy_entry *e = find_entry(r, real, real_len);
		if (!e) {
			if (r->n == cap) {
				size_t ncap = cap ? cap * 2 : 4;
				struct proxy_entry *ne = realloc(r->e, ncap * sizeof(*ne));
				if (!ne)
					goto oom;
				r->e = ne;
				cap = ncap;
			}
			e = &r->e[r->n];
			memset(e, 0, sizeof(*e));
			e->real = strndup(real, real_len);
			if (!e->real)
				goto oom;
			r->n++;
		}
		/* A key given twice: the later value wins, as in sl_conf. */
		if (hosts) {
			rc = parse_hosts(e, key, value, err);
		} else {
			e->has_acl = true;
			if (users)
				rc = parse_acl_list(&e->users, &e->nusers, &e->any_user, key, value, err);
			else
				rc = parse_acl_list(&e->groups, &e->ngroups, &e->any_group, key, value, err);
		}
		if (rc)
			goto out;
	}
	*out = r;
	r = NULL;
	goto out;
oom:
	rc = sl_errf(err, -ENOMEM, "out of memory parsing proxy user rules");
out:
	sl_proxy_rules_free(r);
	return rc;
}

static bool in_list(char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
}

int sl_proxy_check(const struct sl_proxy_rules *r, const char *real, const char *addr,
		   const char *user, const char *const *groups, size_t ngroups, struct sl_err *err)
{
	if (!real || !user || !addr)
		return sl_errf(err, -EACCES, "proxy user check without a user, real user or address");
	if (!strcmp(real, user))
		return 0;
	const struct proxy_entry *e = r ? find_entry(r, real, strlen(real)) : NULL;
	bool allowed = e && e->has_acl &&
		       (e->any_user || e->any_group || in_list(e->users, e->nusers, user));
	for (size_t i = 0; e && !allowed && i < ngroups; i++)
		allowed = groups[i] && in_list(e->groups, e->ngroups, groups[i]);
	if (!allowed)
		return sl_errf(err, -EACCES,
			       "%s is not allowed to impersonate %s from %s: proxyuser.%s.users/groups do not include %s",
			       real, user, addr, real, user);
	if (!e->has_hosts)
		return sl_errf(err, -EACCES,
			       "%s is not allowed to impersonate %s from %s: proxyuser.%s.hosts is not set",
			       real, user, addr, real);
	if (e->all_hosts)
		return 0;
	struct net a;
	if (!parse_addr(addr, &a))
		return sl_errf(err, -EACCES,
			       "%s is not allowed to impersonate %s from %s: not a numeric address",
			       real, user, addr);
	for (size_t i = 0; i < e->nnets; i++)
		if (net_contains(&e->nets[i], &a))
			return 0;
	return sl_errf(err, -EACCES,
		       "%s is not allowed to impersonate %s from %s: address not in proxyuser.%s.hosts",
		       real, user, addr, real);
}

/* ================================================================================================
 * Group mapping: hadoop.user.group.static.mapping.overrides ("user1=g1,g2;user2=;"; a user listed
 * there gets exactly those groups, possibly none), else the OS's groups of the user, primary
 * first. Unlike Hadoop we trim spaces around names and refuse an entry with an empty user name
 * or more than one '='; a later entry for the same user wins, as in Hadoop.
 * ============================================================================================== */

struct static_user {
	char *user;
	char **groups;
	size_t ngroups;
};

struct sl_groups {
	struct static_user *u;
	size_t n;
};

void sl_groups_free(struct sl_groups *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		free(g->u[i].user);
		free_list(g->u[i].groups, g->u[i].ngroups);
	}
	free(g->u);
	free(g);
}

int sl_groups_new(const char *static_overrides, struct sl_groups **out, struct sl_err *err)
{
	int rc = 0;
	size_t cap = 0;
	*out = NULL;
	struct sl_groups *g = calloc(1, sizeof(*g));
	if (!g)
		return sl_errf(err, -ENOMEM, "out of memory parsing group mapping");
	for (const char *p = static_overrides; p && *p;) {
		size_t len = strcspn(p, ";");
		const char *ent = p;
		size_t elen = len;
		p += len;
		if (*p == ';')
			p++;
		trim_range(&ent, &elen);
		if (!elen)
			continue;
		const char *eq = memchr(ent, '=', elen);
		const char *user = ent;
		size_t ulen = eq ? (size_t)(eq - ent) : elen;
		trim_range(&user, &ulen);
		if (!ulen || (eq && memchr(eq + 1, '=', elen - (size_t)(eq + 1 - ent)))) {
			rc = sl_errf(err, -EINVAL,
				     "invalid static group mapping entry '%.*s': expected user=group1,group2",
				     (int)elen, ent);
			goto out;
		}
		if (g->n == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			struct static_user *nu = realloc(g->u, ncap * sizeof(*nu));
			if (!nu)
				goto oom;
			g->u = nu;
			cap = ncap;
		}
		struct static_user *su = &g->u[g->n];
		memset(su, 0, sizeof(*su));
		g->n++;
		su->user = strndup(user, ulen);
		if (!su->user)
			goto oom;
		if (eq) {
			char *list = strndup(eq + 1, elen - (size_t)(eq + 1 - ent));
			if (!list)
				goto oom;
			char **items = NULL;
			size_t nitems = 0;
			rc = split_list(list, &items, &nitems);
			free(list);
			if (rc)
				goto oom;
			/* Keep the first of duplicates (Hadoop collects them in a LinkedHashSet). */
			su->groups = items;
			for (size_t i = 0; i < nitems; i++) {
				if (in_list(su->groups, su->ngroups, items[i]))
					free(items[i]);
				else
					su->groups[su->ngroups++] = items[i];
			}
			if (!su->ngroups) {
				free(su->groups);
				su->groups = NULL;
			}
		}
	}
	*out = g;
	g = NULL;
	goto out;
oom:
	rc = sl_errf(err, -ENOMEM, "out of memory parsing group mapping");
out:
	sl_groups_free(g);
	return rc;
}

/* Appends name to the output arrays unless it is there already. */
static int put_group(const char *user, const char *name, char *buf, size_t bufsize, size_t *used,
		     const char **names, size_t cap, size_t *n, struct sl_err *err)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(names[i], name))
			return 0;
	size_t len = strlen(name) + 1;
	if (*n == cap || bufsize - *used < len)
		return sl_errf(err, -ERANGE, "user %s has more groups than fit in %zu names / %zu bytes",
			       user, cap, bufsize);
	memcpy(buf + *used, name, len);
	names[(*n)++] = buf + *used;
	*used += len;
	return 0;
}

static size_t sysconf_size(int name)
{
	long v = sysconf(name);
	return v > 0 ? (size_t)v : 16384;
}

/* getgrgid_r into a growing buffer; *name NULL when the group has no name. */
static int group_name(gid_t gid, char **tmp, size_t *tmpsize, const char **name)
{
	struct group gr, *res = NULL;
	*name = NULL;
	for (;;) {
		int e = getgrgid_r(gid, &gr, *tmp, *tmpsize, &res);
		if (e == ERANGE && *tmpsize < (1u << 24)) {
			char *nt = realloc(*tmp, *tmpsize * 2);
			if (!nt)
				return -ENOMEM;
			*tmp = nt;
			*tmpsize *= 2;
			continue;
		}
		if (e == EINTR)
			continue;
		if (e && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM)
			return -e;
		if (res)
			*name = res->gr_name;
		return 0;
	}
}

int sl_groups_of(const struct sl_groups *g, const char *user, char *buf, size_t bufsize,
		 const char **names, size_t *n, struct sl_err *err)
{
	size_t cap = *n, used = 0;
	int rc = 0;
	char *tmp = NULL;
	gid_t *gids = NULL;
	*n = 0;
	if (!user || !*user)
		return sl_errf(err, -EINVAL, "group lookup without a user name");

	for (size_t i = g ? g->n : 0; i-- > 0;) {
		const struct static_user *su = &g->u[i];
		if (strcmp(su->user, user))
			continue;
		for (size_t j = 0; j < su->ngroups; j++) {
			rc = put_group(user, su->groups[j], buf, bufsize, &used, names, cap, n, err);
			if (rc) {
				*n = 0;
				return rc;
			}
		}
		return 0;
	}

	size_t tmpsize = sysconf_size(_SC_GETPW_R_SIZE_MAX);
	size_t grsize = sysconf_size(_SC_GETGR_R_SIZE_MAX);
	if (grsize > tmpsize)
		tmpsize = grsize;
	tmp = malloc(tmpsize);
	if (!tmp)
		goto oom;
	struct passwd pw, *pwres = NULL;
	for (;;) {
		int e = getpwnam_r(user, &pw, tmp, tmpsize, &pwres);
		if (e == ERANGE && tmpsize < (1u << 24)) {
			char *nt = realloc(tmp, tmpsize * 2);
			if (!nt)
				goto oom;
			tmp = nt;
			tmpsize *= 2;
			continue;
		}
		if (e == EINTR)
			continue;
		if (e && e != ENOENT && e != ESRCH && e != EBADF && e != EPERM) {
			rc = sl_errf(err, -e, "cannot look up user %s: %s", user, strerror(e));
			goto out;
		}
		break;
	}
	if (!pwres)
		goto out; /* unknown to the OS: no groups */
	gid_t primary = pw.pw_gid;
	int ngids = 32;
	for (;;) {
		gid_t *ng = realloc(gids, (size_t)ngids * sizeof(*ng));
		if (!ng)
			goto oom;
		gids = ng;
		int want = ngids;
		if (getgrouplist(user, primary, gids, &want) >= 0) {
			ngids = want;
			break;
		}
		if (want <= ngids) /* shrank or failed without saying how many: give up growing */
			want = ngids * 2;
		if (want > 65536) {
			rc = sl_errf(err, -ERANGE, "user %s is in too many groups", user);
			goto out;
		}
		ngids = want;
	}
	/* Primary first, then the rest in the order the OS gives them. */
	const char *name = NULL;
	rc = group_name(primary, &tmp, &tmpsize, &name);
	if (rc)
		goto lookup_failed;
	if (name) {
		rc = put_group(user, name, buf, bufsize, &used, names, cap, n, err);
		if (rc)
			goto out;
	}
	for (int i = 0; i < ngids; i++) {
		if (gids[i] == primary)
			continue;
		rc = group_name(gids[i], &tmp, &tmpsize, &name);
		if (rc)
			goto lookup_failed;
		if (!name)
			continue; /* a gid without a name cannot match a group name */
		rc = put_group(user, name, buf, bufsize, &used, names, cap, n, err);
		if (rc)
			goto out;
	}
	goto out;
lookup_failed:
	if (rc == -ENOMEM)
		goto oom;
	rc = sl_errf(err, rc, "cannot look up the groups of user %s: %s", user, strerror(-rc));
	goto out;
oom:
	rc = sl_errf(err, -ENOMEM, "out of memory looking up the groups of user %s", user);
out:
	if (rc)
		*n = 0;
	free(gids);
	free(tmp);
	return rc;
}
