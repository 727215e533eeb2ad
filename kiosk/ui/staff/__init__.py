"""The staff console's widgets: PDF preview and printing (more to come). Bytes and domain in,
signals out; the app layer audits what staff do here."""
