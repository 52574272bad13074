# recorder: bounded queue and threads between traffic sources and the store
# (adapter: it drives the store)
libreprise_la_SOURCES += src/recorder/recorder.c include/reprise/recorder.h
