"""brim.microwave"""
