"""The pure core: plain data and a clock in, plain data out. No I/O, no UI, no SDKs."""
