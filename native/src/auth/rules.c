/*
 * rules.c - Hadoop's identity rules on the gateway, part one: auth_to_local (KerberosName), with
 * regular expressions by PCRE2; proxy users are in proxyusers.c, group mapping in groups.c.
 * Everything is parsed once into immutable objects; the query functions only read them.
 */
#include "rules.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "rules_internal.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/retry.h"

/* Java's \s: the separators allowed between auth_to_local rules. */
static bool java_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Bounds of s without leading and trailing whitespace. */
void sl_rules_trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

void sl_rules_free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

int sl_rules_split_list(const char *v, char ***out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t cap = 0;
	for (const char *p = v; p && *p;) {
		size_t len = strcspn(p, ",");
		const char *item = p;
		size_t ilen = len;
		sl_rules_trim(&item, &ilen);
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
	sl_rules_free_list(*out, *n);
	*out = NULL;
	*n = 0;
	return -ENOMEM;
}

bool sl_rules_in_list(char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(l[i], s))
			return true;
	return false;
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
 * Regular expressions: Hadoop compiles <match> and <from> with java.util.regex; we compile them
 * with PCRE2, whose syntax and leftmost-first matching are Java's for what these rules use
 * (shorthands, escapes, classes, lazy and possessive quantifiers, (?i) and other groups, \Q..\E,
 * backreferences). The few Java constructs PCRE2 would read another way are refused when the
 * rules are parsed, never silently read differently: class unions and intersections ([a[b]],
 * [a&&b]), \0 octal escapes and \p{...} property classes (Java's \p{Alpha} is ASCII, PCRE2's
 * Unicode). Constructs PCRE2 does not know (unbounded lookbehind) fail to compile, and so are
 * refused too. Matching is
 * byte-wise; '.' stops at \r and \n as Java's does; L lowercases ASCII letters only. <to>
 * follows Java's replacement syntax: $n is group n (a second
 * digit joins when that group exists), \x is a literal x.
 *
 * Errors Hadoop raises only when a rule is used (a $n beyond the rule's components in <format>,
 * a bad $ or \ in <to>, a group <from> does not have) are raised when the rules are parsed.
 * ============================================================================================== */

struct a2l_rule {
	bool is_default, lower, global;
	int ncomp;
	char *format;         /* RULE only */
	bool has_match, has_from;
	pcre2_code *match;    /* anchored at both ends: Java's Matcher.matches() */
	pcre2_code *from;
	uint32_t from_groups; /* capture groups of from */
	char *to;
	char *text;           /* the rule as written, for messages */
};

/* Immutable once parsed; a compiled PCRE2 pattern is shared by threads that each match with
 * match data of their own, so every gateway thread may map principals with one sl_auth_rules. */
struct sl_auth_rules {
	struct a2l_rule *rules;
	size_t n;
	char *default_realm;
	bool mit;
};

static void rule_clear(struct a2l_rule *r)
{
	pcre2_code_free(r->match);
	pcre2_code_free(r->from);
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

/* The Java constructs PCRE2 reads another way (see the comment at the top of this section):
 * NULL, or what is wrong. */
static const char *java_only(const char *re)
{
	bool in_class = false;
	for (size_t i = 0; re[i]; i++) {
		if (re[i] == '\\') {
			if (re[i + 1] == '0')
				return "octal escapes (\\0...) differ between Java and PCRE2";
			if (re[i + 1] == 'p' || re[i + 1] == 'P')
				return "property classes (\\p{...}) mean other sets in Java and PCRE2";
			if (re[i + 1] == 'Q' && !in_class) { /* literal up to \E */
				const char *e = strstr(re + i + 2, "\\E");
				if (!e)
					return NULL; /* literal to the end, as in Java */
				i = (size_t)(e - re) + 1;
				continue;
			}
			if (re[i + 1])
				i++;
			continue;
		}
		if (!in_class && re[i] == '[') {
			in_class = true;
			if (re[i + 1] == '^')
				i++;
			if (re[i + 1] == ']')
				i++; /* a ']' first is a member, in Java as in PCRE2 */
		} else if (in_class && re[i] == '[') {
			return "class unions ([a[b]]) are Java-only";
		} else if (in_class && re[i] == '&' && re[i + 1] == '&') {
			return "class intersections (&&) are Java-only";
		} else if (in_class && re[i] == ']') {
			in_class = false;
		}
	}
	return NULL;
}

/* Compiles a Java-syntax regex; anchored: must match the whole string. */
static int compile_java(const char *java, bool anchored, pcre2_code **re, const char *rule_text,
			struct sl_err *err)
{
	*re = NULL;
	const char *why = java_only(java);
	if (why)
		return sl_errf(err, -EINVAL, "auth_to_local rule %s: regex '%s': %s", rule_text, java,
			       why);
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	if (!cc)
		return sl_errf(err, -ENOMEM, "out of memory parsing auth_to_local rules");
	pcre2_set_newline(cc, PCRE2_NEWLINE_ANYCRLF); /* '.' and '$' as Java sees lines */
	int code;
	PCRE2_SIZE at;
	*re = pcre2_compile((PCRE2_SPTR)java, PCRE2_ZERO_TERMINATED,
			    anchored ? PCRE2_ANCHORED | PCRE2_ENDANCHORED : 0, &code, &at, cc);
	pcre2_compile_context_free(cc);
	if (*re)
		return 0;
	PCRE2_UCHAR msg[160];
	if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
		snprintf((char *)msg, sizeof(msg), "error %d", code);
	return sl_errf(err, code == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EINVAL,
		       "auth_to_local rule %s: bad regex '%s': %s at offset %zu", rule_text, java,
		       (const char *)msg, (size_t)at);
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

/* Expands a Java replacement string for one match (ov, of subject s), or checks it when s is NULL
 * (ngroups = the pattern's group count). */
static int expand_replacement(const char *to, const char *s, const PCRE2_SIZE *ov, size_t ngroups,
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
		if (s && ov[2 * g] != PCRE2_UNSET)
			sl_strbuf_putn(out, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
	}
	return 0;
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
			pcre2_pattern_info(r->from, PCRE2_INFO_CAPTURECOUNT, &r->from_groups);
			r->to = strndup(t_start, (size_t)(t_end - t_start));
			if (!r->to)
				goto oom;
			rc = expand_replacement(r->to, NULL, NULL, r->from_groups, NULL, &why);
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
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->from, NULL);
	if (!md)
		return -ENOMEM;
	int rc = 0;
	while (from <= len) {
		int e = pcre2_match(r->from, (PCRE2_SPTR)base, len, from, 0, md, NULL);
		if (e == PCRE2_ERROR_NOMATCH)
			break;
		const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		if (e < 0 || ov[0] < copied || ov[1] < ov[0]) {
			rc = e == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EINVAL;
			break;
		}
		sl_strbuf_putn(out, base + copied, ov[0] - copied);
		const char *why = NULL;
		if ((rc = expand_replacement(r->to, base, ov, r->from_groups, out, &why)))
			break;
		copied = ov[1];
		if (!r->global)
			break;
		from = ov[1] == ov[0] ? ov[1] + 1 : ov[1];
	}
	pcre2_match_data_free(md);
	if (!rc)
		sl_strbuf_putn(out, base + copied, len - copied);
	return rc;
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
		pcre2_match_data *md = pcre2_match_data_create(1, NULL);
		int e = md ? pcre2_match(r->match, (PCRE2_SPTR)base.p, base.len, 0, 0, md, NULL)
			   : PCRE2_ERROR_NOMEMORY;
		pcre2_match_data_free(md);
		if (e == PCRE2_ERROR_NOMATCH)
			goto out;
		if (e < 0) {
			rc = e == PCRE2_ERROR_NOMEMORY ? -ENOMEM : -EINVAL;
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
