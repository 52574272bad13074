# mask: rule sets, detectors, keyed tokens and fakes, the exchange walker
# (pure: libc, PCRE2, OpenSSL SHA-256)
libreprise_core_la_SOURCES += src/mask/parse.c src/mask/rules.c src/mask/detect.c \
	src/mask/keyed.c src/mask/apply.c src/mask/json.c src/mask/form.c \
	src/mask/mask-int.h include/reprise/mask.h

# the mask commands and the flags the recording commands share
libreprise_la_SOURCES += src/cli/mask.c src/cli/audit.c src/cli/mask_opts.c
AM_CPPFLAGS += -DRP_PKGDATADIR='"$(pkgdatadir)"'

# shipped rule sets (installed to $(pkgdatadir), found there or in the source tree)
dist_pkgdata_DATA += masks/default.rules masks/pci.rules masks/gdpr.rules
