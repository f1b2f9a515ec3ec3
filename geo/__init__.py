"""Geography: coordinate systems, postcode lookup, boundary layers and areas."""
