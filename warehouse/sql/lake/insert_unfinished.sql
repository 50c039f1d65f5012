-- Lake variant: upsert a chunk's unfinished articles (new wins over seen-again).
MERGE INTO unfinished_articles AS u
USING (SELECT article_id, run_id, new, loaded_at FROM batch
       QUALIFY row_number() OVER (PARTITION BY article_id ORDER BY new DESC) = 1) AS b
ON u.article_id = b.article_id
WHEN MATCHED THEN UPDATE SET new = u.new OR b.new
WHEN NOT MATCHED THEN INSERT (article_id, run_id, new, loaded_at)
    VALUES (b.article_id, b.run_id, b.new, b.loaded_at);
