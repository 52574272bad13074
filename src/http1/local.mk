# src/http1
