INSERT INTO article_terms SELECT article_id, term, weight, seen_at FROM batch;
