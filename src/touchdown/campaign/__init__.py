"""Monte Carlo campaigns: dispersions and sampling, execution (in-process, Dask), results, statistics."""
