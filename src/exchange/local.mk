# exchange: the data model (pure)
libreprise_core_la_SOURCES += src/exchange/exchange.c include/reprise/exchange.h
