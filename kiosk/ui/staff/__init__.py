"""The staff console's widgets: plain data and PDF bytes in, signals out. The app layer wires them,
owns the database and audits every view and print."""
