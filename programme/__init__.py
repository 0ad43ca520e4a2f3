"""ketnoi.programme: what a supporting-industry programme does with matches.

Matchmaking events, the feedback loop's conversion report, localisation gaps, concentration and
the programme's indicators. Uses :mod:`ketnoi.matcher` and :mod:`ketnoi.graph`; never
:mod:`ketnoi.api`.
"""

__all__: list[str] = []
