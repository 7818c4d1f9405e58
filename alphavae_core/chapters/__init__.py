"""The analysis, tables and figures behind each chapter of the book, one module or small package per
chapter, named after it. Chapters read results; they never define the α-VAE itself."""
