"""Emerging terms: catch new things while they are still small (term-level emergence
after Porter, Garner, Carley & Newman 2019).

`extract` finds candidate terms (English phrases, Chinese words through jieba),
`counts` counts items per term, month, stream and venue, `emergence` applies the
Porter/Carley criteria and scores the survivors (pure); `service` drives the store (a
night's counts, the ranked list, `ranked_terms` for the report); `corpus` reads dumps
for the backtest (scanner.evaluation.terms).
"""
