-- Web search: the ids of the articles from $lo to $hi that may match a query, for the query
-- language to judge.
-- $cnf lists clauses of needles: an article passes when every clause has a needle in its
-- folded title and text. Articles with a character whose folding SQL cannot reproduce
-- ($unsafe, a regex class) always pass, so none that matches is lost; so do articles in a
-- language whose stemmer is not English's ($other_languages: the needles come from English).
SELECT article_id
FROM (SELECT article_id, title, text, language,
             strip_accents(lower(coalesce(title, '') || ' ' || text)) AS hay
      FROM articles
      WHERE article_id BETWEEN $lo AND $hi)
WHERE list_bool_and(list_transform($cnf, lambda clause:
          list_bool_or(list_transform(clause, lambda needle: contains(hay, needle)))))
   OR (strlen(coalesce(title, '') || text) <> length(coalesce(title, '') || text)
       AND regexp_matches(coalesce(title, '') || ' ' || text, $unsafe))
   OR split_part(split_part(lower(coalesce(language, '')), '-', 1), '_', 1)
      IN (SELECT unnest($other_languages))
ORDER BY article_id;
