"""Assets students can load (issue #16): the files under data/assets/ that modules use,
published by deploy to a store and named in the database by absolute URL.

    store.py    where they go: a local folder or any S3-compatible bucket (boto3); the one
                place botocore's exceptions become ours
    publish.py  which bytes each repository path holds (git's index, else read) and
                uploading what the store does not have yet
    rewrite.py  the rows students read with every asset path replaced by its URL (pure)
    unused.py   files in a module's asset folder that the module does not use (pure)
    serve.py    `pipeline assets serve`: the local store over HTTP, for a laptop trial
"""
