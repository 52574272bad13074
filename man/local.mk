# man
dist_man_MANS += man/reprise-proxy.1
