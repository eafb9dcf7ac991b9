"""brim.evaluate"""
