"""The other public web archives, through the Memento protocol (RFC 7089): a stage after the Wayback stage.

``registry`` (the archive list), ``linkformat`` (TimeMaps), ``client`` (paced calls), ``stage`` (what is asked).
"""
