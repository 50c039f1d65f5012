-- How SQL folds each character ($codepoints) for the search prefilter: lower case, accents off.
SELECT cp, strip_accents(lower(chr(CAST(cp AS INTEGER)))) AS folded
FROM (SELECT unnest($codepoints) AS cp);
