# proxy: the HTTP/1.1 recording reverse proxy (adapter: libevent)
libreprise_la_SOURCES += src/proxy/server.c src/proxy/conn.c src/proxy/head.c \
	src/proxy/metrics.c src/proxy/proxy-int.h include/reprise/proxy.h
