# coding: HTTP content codings (pure; zlib, brotli, zstd)
libreprise_core_la_SOURCES += src/coding/coding.c include/reprise/coding.h
