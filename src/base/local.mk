# base: slices, buffers, pools, errors, logging, time (pure)
libreprise_core_la_SOURCES += src/base/mem.c src/base/buf.c src/base/util.c \
	include/reprise/base.h include/reprise/limits.h
