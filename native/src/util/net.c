/* net.c - listening sockets from a HOST:PORT setting (see net.h). */
#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int split_host_port(const char *s, char *host, size_t hsize, char *port, size_t psize)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || !colon[1])
		return -EINVAL;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (*h == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= hsize || strlen(colon + 1) >= psize)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = 0;
	snprintf(port, psize, "%s", colon + 1);
	return 0;
}

int sl_net_listen(const char *where, const char *key, int *fd_out, int *port_out,
		  struct sl_err *err)
{
	char host[256], port[32];
	if (!where || split_host_port(where, host, sizeof(host), port, sizeof(port)))
		return sl_errf(err, -EINVAL, "config key '%s': '%s' is not HOST:PORT", key,
			       where ? where : "");
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	int g = getaddrinfo(host, port, &hints, &res);
	if (g)
		return sl_errf(err, -EINVAL, "%s %s: %s", key, where, gai_strerror(g));
	int rc = 0, fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, 128))
		rc = sl_errf(err, -errno, "listening on %s: %s", where, strerror(errno));
	freeaddrinfo(res);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	*fd_out = fd;
	return 0;
}
