-- Web search: every article id in order, to cut the prefilter's scan into short reads.
SELECT article_id FROM articles ORDER BY article_id;
