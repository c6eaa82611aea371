"""实有人口, 房屋, organisations, places and special-care groups (GB/T 31000 "9+X")."""
