"""The guide's example custom metrics tables (`ngc registry model upload-version --metrics-file`),
as the NGC API stores and returns them."""

ZEPPELIN = {
    "name": "ZeppelinTable",
    "attributes": [
        {"key": "Robert", "value": "Plant"},
        {"key": "Jimmy", "value": "Page"},
        {"key": "John", "value": "Bonham"},
        {"key": "John", "value": "Paul Jones"},
    ],
}
RHCP = {
    "name": "RHCPTable",
    "attributes": [
        {"key": "Anthony", "value": "Keidis"},
        {"key": "Michael", "value": "Balzary"},
        {"key": "John", "value": "Frusciante"},
        {"key": "Chad", "value": "Smith"},
    ],
}
