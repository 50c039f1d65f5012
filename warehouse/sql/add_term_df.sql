INSERT INTO term_df SELECT term, df FROM batch
ON CONFLICT (term) DO UPDATE SET df = term_df.df + excluded.df;
