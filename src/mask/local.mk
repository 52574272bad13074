# mask: rule sets, detectors, keyed tokens and fakes, the exchange walker
# (pure: libc, PCRE2, OpenSSL SHA-256)
libreprise_core_la_SOURCES += src/mask/parse.c src/mask/rules.c src/mask/detect.c \
	src/mask/keyed.c src/mask/apply.c src/mask/json.c src/mask/form.c \
	src/mask/mask-int.h include/reprise/mask.h
