"""brim.elasto"""
