"""The floor every layer stands on: upload checks, the accepted-and-rejected-rows shape of an
import, safe text (control characters, formula guards), months and plain words, theme names and
the UserError base. It imports nothing of the product's own."""
