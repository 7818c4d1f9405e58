"""Teaching with the book: kernel-free self-checks, graded assignments, execution records.

This layer sits above the chapters (it reads what they compute); the α-VAE core never imports it.
"""
