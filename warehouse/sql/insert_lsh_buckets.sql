INSERT INTO lsh_buckets SELECT band, bucket, article_id FROM batch;
