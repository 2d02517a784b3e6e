"""What all three services need and nothing that belongs to one of them."""
