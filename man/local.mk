# man: reprise(1) and one page per command
dist_man_MANS += man/reprise.1 man/reprise-ls.1 man/reprise-show.1 man/reprise-export.1 \
	man/reprise-import.1 man/reprise-stats.1
dist_man_MANS += man/reprise-proxy.1
dist_man_MANS += man/reprise-capture.1
# mask: the rule language and the mask, audit commands
dist_man_MANS += man/reprise-masks.5 man/reprise-mask.1 man/reprise-audit.1
dist_man_MANS += man/reprise-replay.1 man/reprise-demo.1 man/reprise-noise.5
