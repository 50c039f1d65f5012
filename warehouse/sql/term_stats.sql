-- Document frequencies of the batch's terms; '#docs' holds the number of documents counted.
SELECT term, df FROM term_df WHERE term IN (SELECT term FROM batch) OR term = '#docs';
