# man
dist_man_MANS += man/reprise-proxy.1
dist_man_MANS += man/reprise-capture.1
