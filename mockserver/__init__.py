"""vendor-sandbox: a local emulator of Amazon's Selling Partner API Vendor APIs."""

__version__ = "0.1.0"
