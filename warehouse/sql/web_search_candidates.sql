-- Web search: the articles in rows $lo to $hi (rowids: the scan skips the rest of the table)
-- that may match a query, with what the query language reads to judge them. Unless $all,
-- only those first seen or changed since $newest / $updated (a kept search brought up to
-- date).
-- $cnf lists clauses of needles: an article passes when every clause has a needle in its
-- folded title and text. Articles with a character whose folding SQL cannot reproduce
-- ($unsafe, a regex class) always pass, so none that matches is lost; so do articles in a
-- language whose stemmer is not English's ($other_languages: the needles come from English).
SELECT article_id, title, text, outlet, canonical_url, language, published_at, first_seen_at
FROM (SELECT article_id, title, text, outlet, canonical_url, language, published_at,
             first_seen_at, all_text,
             CASE WHEN strlen(all_text) = length(all_text) THEN lower(all_text)  -- ASCII
                  ELSE strip_accents(lower(all_text)) END AS hay
      FROM (SELECT article_id, title, text, outlet, canonical_url, language, published_at,
                   first_seen_at, coalesce(title, '') || ' ' || text AS all_text
            FROM articles
            WHERE rowid BETWEEN $lo AND $hi
              AND ($all OR first_seen_at >= $newest OR updated_at >= $updated
                   OR ($updated IS NULL AND updated_at IS NOT NULL))))
WHERE len($cnf) = 0
   OR list_bool_and(list_transform($cnf, lambda clause:
          list_bool_or(list_transform(clause, lambda needle: contains(hay, needle)))))
   OR (strlen(all_text) <> length(all_text) AND regexp_matches(all_text, $unsafe))
   OR split_part(split_part(lower(coalesce(language, '')), '-', 1), '_', 1)
      IN (SELECT unnest($other_languages));
